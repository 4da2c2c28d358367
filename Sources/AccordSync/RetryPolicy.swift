import AccordCore

/// When to try an operation again (pure). Exponential backoff with full jitter:
/// attempt n waits a random time in [0, min(max, base·2ⁿ)], so replicas that failed
/// together do not retry together; a server's Retry-After wins when it asks for longer.
package struct RetryPolicy: Sendable, Equatable {
    package var baseDelayMilliseconds: Int
    package var maxDelayMilliseconds: Int

    package init(baseDelayMilliseconds: Int = 100, maxDelayMilliseconds: Int = 30_000) {
        self.baseDelayMilliseconds = baseDelayMilliseconds
        self.maxDelayMilliseconds = maxDelayMilliseconds
    }

    /// What to do after a response with `status`.
    package enum Decision: Sendable, Equatable {
        case retry
        /// Retrying cannot help (400, 401, 403, 404, 413, 422...): report and stop.
        case fail
    }

    /// 401 and 403 are retried too (with the backoff): a revoked or read-only token is
    /// an operator's to fix, and the change must go once they have, not stay parked.
    package static func decision(forStatus status: Int) -> Decision {
        switch status {
        case 401, 403, 408, 425, 429, 500, 502, 503, 504: .retry
        default: .fail
        }
    }

    /// The delay before retry number `attempt` (0 for the first retry), in seconds.
    /// `random` is a number in [0, 1); `retryAfter` the server's wish, if any.
    package func delay(attempt: Int, random: Double, retryAfter: Double? = nil) -> Double {
        let exponent = min(attempt, 30)
        let ceiling = min(Double(maxDelayMilliseconds), Double(baseDelayMilliseconds) * Double(1 << exponent)) / 1000
        let jittered = ceiling * min(max(random, 0), 1)
        guard let retryAfter, retryAfter > jittered else { return jittered }
        return retryAfter
    }

    /// Parses `Retry-After`: delta-seconds (`120`) or an HTTP date
    /// (`Wed, 21 Oct 2026 07:28:00 GMT`), relative to `now` (seconds since 1970).
    package static func retryAfterSeconds(_ header: String, now: Double) -> Double? {
        let text = header.trimming(" \t")
        if let seconds = Int(text), seconds >= 0 { return Double(seconds) }
        guard let date = HTTPDate.parse(text) else { return nil }
        return max(0, date - now)
    }
}

/// IMF-fixdate (RFC 9110 section 5.6.7), the only date form servers may send.
enum HTTPDate {
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Seconds since 1970, or nil if `text` is not `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func parse(_ text: String) -> Double? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[0].hasSuffix(","), parts[5] == "GMT", let day = Int(parts[1]),
            let monthIndex = months.firstIndex(of: String(parts[2])), let year = Int(parts[3])
        else { return nil }
        let time = parts[4].split(separator: ":").compactMap { Int($0) }
        guard time.count == 3, (1...31).contains(day), (0...23).contains(time[0]), (0...59).contains(time[1]), (0...60).contains(time[2]) else {
            return nil
        }
        return Double(daysSinceEpoch(year: year, month: monthIndex + 1, day: day) * 86_400 + time[0] * 3600 + time[1] * 60 + time[2])
    }

    /// Days from 1970-01-01 (proleptic Gregorian), Howard Hinnant's days_from_civil.
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
