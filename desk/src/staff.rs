//! Staff at the desk: what they tell it about themselves, availability (routing offers work
//! only to the available) and location (onsite dispatch weighs the distance to the site), and
//! the list of staff with their skills and load that dispatchers route by.

use serde::Serialize;
use tether_access::Actor;
use tether_protocol::{Availability, UserRole};

use crate::{Desk, DeskError};

/// A member of staff as the desk shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffMember {
    /// Login name.
    pub name: String,
    /// Role.
    pub role: UserRole,
    /// Skill tags.
    pub skills: Vec<String>,
    /// Whether they take new work.
    pub availability: Availability,
    /// Open tickets assigned to them.
    pub open_tickets: usize,
    /// Disabled accounts are listed to managers only.
    pub disabled: bool,
}

impl Desk {
    /// Everyone at the desk, by name, with their skills, availability and open tickets:
    /// for any signed-in account (a technician looking for a colleague to help), disabled
    /// accounts for managers only.
    pub async fn members(&self, actor: &Actor) -> Result<Vec<StaffMember>, DeskError> {
        staff(actor)?;
        let loads = self.store.open_loads().await?;
        let mut members: Vec<StaffMember> = self
            .store
            .users()
            .await?
            .into_iter()
            .filter(|u| !u.disabled || actor.is_manager())
            .map(|u| StaffMember {
                open_tickets: loads.get(&u.name).copied().unwrap_or(0),
                name: u.name,
                role: u.role,
                skills: u.skills,
                availability: u.availability,
                disabled: u.disabled,
            })
            .collect();
        members.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(members)
    }

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
        .ok_or_else(|| DeskError::Invalid("only a signed-in account can do that".into()))
}
