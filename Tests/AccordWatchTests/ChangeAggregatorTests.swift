import Testing

@testable import AccordWatch

/// The aggregator with the time passed in: every rule checked at exact instants.
@Suite struct ChangeAggregatorTests {
    let debounce = 0.005

    @Test func aFirstChangeIsDueAtOnce() {
        var aggregator = ChangeAggregator(debounce: debounce, maxDelay: 1)
        aggregator.note("a.json", at: 100)
        #expect(aggregator.nextDeadline == 100)
        #expect(aggregator.takeDue(at: 100).paths == ["a.json"])
        #expect(aggregator.isEmpty)
    }

    @Test func aBurstIsDebounced() {
        var aggregator = ChangeAggregator(debounce: debounce, maxDelay: 1)
        aggregator.note("a.json", at: 100)
        _ = aggregator.takeDue(at: 100)
        // Written again 1 ms later: part of a burst, so it waits for quiet.
        aggregator.note("a.json", at: 100.001)
        #expect(aggregator.takeDue(at: 100.002).paths.isEmpty)
        aggregator.note("a.json", at: 100.004)
        #expect(aggregator.takeDue(at: 100.008).paths.isEmpty)
        #expect(aggregator.nextDeadline == 100.004 + debounce)
        #expect(aggregator.takeDue(at: 100.0091).paths == ["a.json"])
    }

    @Test func aFileThatNeverStopsChangingIsSyncedByTheMaximumDelay() {
        var aggregator = ChangeAggregator(debounce: debounce, maxDelay: 0.1)
        aggregator.note("busy.json", at: 0)
        _ = aggregator.takeDue(at: 0)
        var now = 0.001
        var taken: [Double] = []
        while now < 0.5 {
            aggregator.note("busy.json", at: now)
            if !aggregator.takeDue(at: now).paths.isEmpty { taken.append(now) }
            now += 0.001
        }
        // A change every millisecond never leaves 5 ms of quiet, yet it goes out at
        // least every 100 ms.
        #expect(taken.count >= 4)
        #expect(zip(taken, taken.dropFirst()).allSatisfy { $1 - $0 <= 0.1 + 0.0021 })
    }

    @Test func pathsCoalesceAndStaySeparate() {
        var aggregator = ChangeAggregator(debounce: debounce, maxDelay: 1)
        for _ in 0..<50 { aggregator.note("a.json", at: 10) }
        aggregator.note("b.json", at: 10)
        // b was seen once: due at once. a was written 50 times: one batch once quiet.
        #expect(aggregator.takeDue(at: 10).paths == ["b.json"])
        #expect(aggregator.takeDue(at: 10 + debounce).paths == ["a.json"])
        #expect(aggregator.takeDue(at: 10.1).paths.isEmpty)
    }

    @Test func overflowGivesOneFullRescanAndSwallowsPaths() {
        var aggregator = ChangeAggregator(debounce: debounce, maxDelay: 1)
        aggregator.note("a.json", at: 1)
        aggregator.noteFullRescan(at: 1)
        aggregator.note("b.json", at: 1)
        let due = aggregator.takeDue(at: 1)
        #expect(due.fullRescan && due.paths.isEmpty)
        #expect(aggregator.isEmpty)
        #expect(aggregator.takeDue(at: 2).fullRescan == false)
    }

    @Test func quietPathsAreForgotten() {
        var aggregator = ChangeAggregator(debounce: debounce, maxDelay: 1)
        aggregator.note("a.json", at: 1)
        _ = aggregator.takeDue(at: 1)
        // Long after, a new save is again due at once.
        aggregator.note("a.json", at: 5)
        #expect(aggregator.takeDue(at: 5).paths == ["a.json"])
    }
}
