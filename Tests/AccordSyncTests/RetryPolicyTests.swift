import Testing

@testable import AccordSync

@Suite("Retry policy")
struct RetryPolicyTests {
    @Test(
        "which statuses are retried",
        arguments: [
            (408, true), (429, true), (500, true), (502, true), (503, true), (504, true),
            (400, false), (401, true), (403, true), (404, false), (413, false), (422, false), (428, false),
        ])
    func decisions(_ status: Int, _ retried: Bool) {
        #expect((RetryPolicy.decision(forStatus: status) == .retry) == retried)
    }

    @Test func fullJitterGrowsExponentiallyUpToTheCap() {
        let policy = RetryPolicy(baseDelayMilliseconds: 100, maxDelayMilliseconds: 30_000)
        #expect(policy.delay(attempt: 0, random: 0.999_999) < 0.1)
        #expect(abs(policy.delay(attempt: 3, random: 0.5) - 0.4) < 1e-9)
        #expect(abs(policy.delay(attempt: 20, random: 0.5) - 15) < 1e-9, "capped at 30 s, then jittered")
        #expect(policy.delay(attempt: 5, random: 0) == 0, "full jitter reaches zero")
        #expect(policy.delay(attempt: 1000, random: 1) <= 30)
    }

    @Test func retryAfterWinsWhenLonger() {
        let policy = RetryPolicy()
        #expect(policy.delay(attempt: 0, random: 0.5, retryAfter: 7) == 7)
        #expect(policy.delay(attempt: 20, random: 0.9, retryAfter: 1) == 27)
    }

    @Test func retryAfterInBothForms() {
        let now = HTTPDate.parse("Thu, 26 Nov 2026 12:00:00 GMT")!
        #expect(RetryPolicy.retryAfterSeconds("120", now: now) == 120)
        #expect(RetryPolicy.retryAfterSeconds("Thu, 26 Nov 2026 12:00:30 GMT", now: now) == 30)
        #expect(RetryPolicy.retryAfterSeconds("Thu, 26 Nov 2026 11:00:00 GMT", now: now) == 0, "a date in the past means now")
        #expect(RetryPolicy.retryAfterSeconds("soon", now: now) == nil)
        #expect(RetryPolicy.retryAfterSeconds("-5", now: now) == nil)
    }

    @Test func httpDatesMatchKnownInstants() {
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDate.parse("Thu, 01 Jan 1970 00:00:00 GMT") == 0)
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 PST") == nil)
    }
}
