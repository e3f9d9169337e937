//! Room names. A room is `venture:{id}`, `team:{id}` or `user:{id}` (the personal room every
//! connection of a user joins). Parsing is strict so a forged name cannot alias another room:
//! no empty ids, no whitespace or control characters, bounded length.

use hub_protocol::{RoomId, TeamId, UserId, VentureId};
use std::fmt;
use std::str::FromStr;

/// The longest id accepted inside a room name.
pub const MAX_ID_LEN: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RoomName {
    Venture(VentureId),
    Team(TeamId),
    User(UserId),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoomNameError {
    #[error("room names look like venture:{{id}} or team:{{id}}")]
    Malformed,
    #[error("unknown room kind {0:?}")]
    UnknownKind(String),
    #[error("room id is empty, too long or has forbidden characters")]
    BadId,
}

/// Whether `id` is acceptable as an identifier: 1..=128 characters, none of them whitespace,
/// control characters or `:`.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && !id
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ':')
}

impl RoomName {
    /// The room's id: its canonical text form.
    pub fn id(&self) -> RoomId {
        RoomId(self.to_string())
    }

    pub fn venture(id: &VentureId) -> Self {
        RoomName::Venture(id.clone())
    }

    pub fn team(id: &TeamId) -> Self {
        RoomName::Team(id.clone())
    }

    pub fn user(id: &UserId) -> Self {
        RoomName::User(id.clone())
    }

    /// Rooms a client may ask to join (personal rooms are joined by the server only).
    pub fn is_joinable(&self) -> bool {
        !matches!(self, RoomName::User(_))
    }
}

impl fmt::Display for RoomName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoomName::Venture(id) => write!(f, "venture:{id}"),
            RoomName::Team(id) => write!(f, "team:{id}"),
            RoomName::User(id) => write!(f, "user:{id}"),
        }
    }
}

impl FromStr for RoomName {
    type Err = RoomNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, id) = s.split_once(':').ok_or(RoomNameError::Malformed)?;
        if !valid_id(id) {
            return Err(RoomNameError::BadId);
        }
        match kind {
            "venture" => Ok(RoomName::Venture(VentureId::from(id))),
            "team" => Ok(RoomName::Team(TeamId::from(id))),
            "user" => Ok(RoomName::User(UserId::from(id))),
            other => Err(RoomNameError::UnknownKind(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_each_kind() {
        for name in ["venture:0192", "team:abc-1", "user:alice"] {
            let room: RoomName = name.parse().unwrap();
            assert_eq!(room.to_string(), name);
        }
        assert_eq!(
            "team:t1".parse::<RoomName>(),
            Ok(RoomName::Team(TeamId::from("t1")))
        );
    }

    #[test]
    fn rejects_forged_names() {
        assert_eq!("venture".parse::<RoomName>(), Err(RoomNameError::Malformed));
        assert_eq!("venture:".parse::<RoomName>(), Err(RoomNameError::BadId));
        assert_eq!("venture:a:b".parse::<RoomName>(), Err(RoomNameError::BadId));
        assert_eq!("venture:a b".parse::<RoomName>(), Err(RoomNameError::BadId));
        assert_eq!("venture:a\n".parse::<RoomName>(), Err(RoomNameError::BadId));
        assert_eq!(
            format!("team:{}", "x".repeat(MAX_ID_LEN + 1)).parse::<RoomName>(),
            Err(RoomNameError::BadId)
        );
        assert_eq!(
            "Venture:x".parse::<RoomName>(),
            Err(RoomNameError::UnknownKind("Venture".into()))
        );
    }

    #[test]
    fn personal_rooms_are_not_joinable_by_clients() {
        assert!(!RoomName::user(&UserId::from("bob")).is_joinable());
        assert!(RoomName::venture(&VentureId::from("v")).is_joinable());
    }
}
