/// Decides which "not syncing with the hub" lines are warnings (pure, no clock of its
/// own). A cause said within `repeatSeconds` is a flap (a balancer alternating between
/// two hubs' databases, a link that comes and goes): it goes to debug, with the
/// "reachable again" that follows it, so a flapping hub cannot flood the journal. A
/// quiet offline that lasts `outageSeconds` is an outage after all, and is warned.
struct OfflineJournal {
    static let repeatSeconds = 300.0
    static let outageSeconds = 60.0
    /// When each cause was last warned.
    private var warned: [String: Double] = [:]
    /// When the daemon went offline without a warning (nil: it warned, or is online).
    private var quietSince: Double?

    /// The daemon went offline for `cause`: true if that is said as a warning.
    mutating func wentOffline(_ cause: String, now: Double) -> Bool {
        if let at = warned[cause], now - at < Self.repeatSeconds {
            quietSince = now
            return false
        }
        warn(cause, now: now)
        return true
    }

    /// Still offline for `cause`: true once a quiet offline has lasted long enough.
    mutating func stillOffline(_ cause: String, now: Double) -> Bool {
        guard let since = quietSince, now - since >= Self.outageSeconds else { return false }
        warn(cause, now: now)
        return true
    }

    /// Back online: true if that is said as a notice (the offline was warned).
    mutating func backOnline() -> Bool {
        defer { quietSince = nil }
        return quietSince == nil
    }

    private mutating func warn(_ cause: String, now: Double) {
        if warned.count > 100 { warned = [:] }
        warned[cause] = now
        quietSince = nil
    }
}
