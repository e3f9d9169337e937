//! The client events and their handlers: one table, built once, for every socket.
//!
//! socketioxide keeps the handlers a socket registers with `on` in a map of the socket's own.
//! The hub's 17 events made that map 1.3 KiB on every connection (a heap profile of 2,000 idle
//! sockets), the same table each time. Each socket registers one fallback handler instead,
//! [`Dispatch`], which reads the event's name and calls the handler of [`EVENTS`]; an event
//! the table does not hold goes to [`sys::unknown_event`]. Handlers keep socketioxide's
//! extractors and run exactly as if registered with `on`.

use super::{chat, docs, rooms, sys};
use hub_protocol::realtime::{ClientEvent, client};
use socketioxide::adapter::LocalAdapter;
use socketioxide::extract::Event;
use socketioxide::handler::{FromMessageParts, MessageHandler, Value};
use socketioxide::socket::Socket;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, LazyLock};

/// Every client event the hub answers, and its handler.
static EVENTS: LazyLock<Events> = LazyLock::new(|| {
    let mut events = Events::new(sys::unknown_event);
    events.on(client::SysPingEvent, sys::ping);
    events.on(client::SysEchoEvent, sys::echo);
    events.on(client::RoomJoinEvent, rooms::join);
    events.on(client::RoomLeaveEvent, rooms::leave);
    events.on(client::PresenceSetEvent, rooms::set_presence);
    events.on(client::TypingStartEvent, rooms::typing_start);
    events.on(client::TypingStopEvent, rooms::typing_stop);
    events.on(client::ChatSendEvent, chat::send);
    events.on(client::ChatEditEvent, chat::edit);
    events.on(client::ChatDeleteEvent, chat::delete);
    events.on(client::ChatReactEvent, chat::react);
    events.on(client::ChatHistoryEvent, chat::history);
    events.on(client::ChatThreadEvent, chat::thread);
    events.on(client::ChatReadEvent, chat::read);
    events.on(client::DocJoinEvent, docs::join);
    events.on(client::DocLeaveEvent, docs::leave);
    events.on(client::DocMsgEvent, docs::message);
    events
});

/// A handler with its extractors, behind one type.
trait Erased: Send + Sync {
    fn call(&self, s: Arc<Socket>, v: Value, ack: Option<i64>);
}

struct Typed<H, T>(H, PhantomData<fn() -> T>);

impl<H, T> Erased for Typed<H, T>
where
    H: MessageHandler<LocalAdapter, T>,
    T: Send + Sync + 'static,
{
    fn call(&self, s: Arc<Socket>, v: Value, ack: Option<i64>) {
        self.0.call(s, v, ack);
    }
}

/// Event names to handlers.
struct Events {
    by_name: HashMap<&'static str, Box<dyn Erased>>,
    unknown: Box<dyn Erased>,
}

impl Events {
    fn new<H, T>(unknown: H) -> Events
    where
        H: MessageHandler<LocalAdapter, T>,
        T: Send + Sync + 'static,
    {
        Events {
            by_name: HashMap::new(),
            unknown: Box::new(Typed(unknown, PhantomData)),
        }
    }

    /// Registers the handler of the client event `E`, under its name.
    fn on<E, H, T>(&mut self, _event: E, handler: H)
    where
        E: ClientEvent,
        H: MessageHandler<LocalAdapter, T>,
        T: Send + Sync + 'static,
    {
        let event = E::NAME;
        let previous = self
            .by_name
            .insert(event, Box::new(Typed(handler, PhantomData)));
        assert!(previous.is_none(), "event {event:?} has two handlers");
    }

    /// The events with a handler, for the tests.
    #[cfg(test)]
    fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.by_name.keys().copied().collect();
        names.sort_unstable();
        names
    }

    fn handler(&self, event: &str) -> &dyn Erased {
        self.by_name.get(event).unwrap_or(&self.unknown).as_ref()
    }
}

/// The one handler a socket registers (as its fallback): looks the event up in [`EVENTS`].
/// A zero-sized value, so registering it allocates nothing.
#[derive(Clone, Copy)]
pub struct Dispatch;

/// The marker of [`Dispatch`]'s handler type.
pub struct ViaTable;

impl MessageHandler<LocalAdapter, ViaTable> for Dispatch {
    fn call(&self, s: Arc<Socket>, mut v: Value, ack: Option<i64>) {
        // socketioxide reads the name before calling any handler and refuses the message when
        // it cannot, so this only fails if the two parsers disagree: then it is unknown.
        let handler = match Event::from_message_parts(&s, &mut v, &ack) {
            Ok(Event(event)) => EVENTS.handler(&event),
            Err(_) => EVENTS.unknown.as_ref(),
        };
        handler.call(s, v, ack);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_holds_every_client_event_of_the_protocol_and_no_other() {
        let mut expected = client::ALL.to_vec();
        expected.sort_unstable();
        assert_eq!(EVENTS.names(), expected);
    }
}
