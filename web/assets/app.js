// The broker's web pages: the staff's desk at /, and the customer's pages at /portal and
// /t/TOKEN. Each part is its own module; this one only chooses.

import { startDesk } from '/assets/desk.js';
import { startCustomer } from '/assets/customer.js';

const path = location.pathname;
if (path === '/portal' || path.startsWith('/t/')) startCustomer(path);
else startDesk();
