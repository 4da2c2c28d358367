/// How much load the hub takes before it answers 503 with `Retry-After` or refuses
/// a connection (CONTRACT 8.4). Bounds, so a flood costs the flooder, not the team.
package struct HubLimits: Sendable {
    /// Long-polls waiting at once; past it a long-poll gets 503 + Retry-After.
    package var maxLongPolls = 512
    /// Writes admitted and not yet answered (a batch counts each write); past it 503.
    /// One request is always admitted when none waits, whatever its size.
    package var maxQueuedWrites = 8192
    /// Open connections; past it a new connection is closed at once.
    package var maxConnections = 1024
    /// Seconds a connection may sit without a request, or take to send a request's
    /// head and body, before it is closed.
    package var idleTimeoutSeconds = 30

    package init() {}
}
