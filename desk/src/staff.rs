//! What staff tell the desk about themselves: availability (routing offers work only to the
//! available) and location (onsite dispatch weighs the distance to the site).

use tether_access::Actor;
use tether_protocol::Availability;

use crate::{Desk, DeskError};

impl Desk {
    /// Sets `actor`'s availability.
    pub async fn set_availability(
        &self,
        actor: &Actor,
        availability: Availability,
    ) -> Result<(), DeskError> {
        let user = staff(actor)?;
        self.store.set_availability(&user, availability).await?;
        Ok(())
    }

    /// Sets `actor`'s location, in degrees.
    pub async fn set_location(&self, actor: &Actor, lat: f64, lon: f64) -> Result<(), DeskError> {
        if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
            return Err(DeskError::Invalid(
                "latitude must be -90..90 and longitude -180..180".into(),
            ));
        }
        let user = staff(actor)?;
        self.store.set_location(&user, lat, lon).await?;
        Ok(())
    }
}

/// The account name of a staff actor.
fn staff(actor: &Actor) -> Result<String, DeskError> {
    actor
        .user()
        .map(|u| u.name.clone())
        .ok_or_else(|| DeskError::Invalid("only a signed-in account has an availability".into()))
}
