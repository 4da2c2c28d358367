import AccordCore
import AccordSync
import AccordSystemd
import AccordWatch
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// The one owner of the sync engine: every scan, push, pull and operator job runs
/// here, one at a time, so no two of them interleave on the same records. Nothing
/// else holds the engine: the watcher and the feed ring the doorbell, the control API
/// reads snapshots and queues jobs (`perform`), and a reload is a job too. A job queued
/// while the loop stops is answered with `LoopStopped`, never left waiting.
actor SyncLoop {
    private let engine: SyncEngine
    let clock: any SyncClock
    let inbox: ChangeInbox
    let doorbell: Doorbell
    let metrics: DaemonMetrics
    let logger: Logger
    let notifier: SystemdNotifier
    private let watcher: InotifyWatcher?

    private(set) var paused = false
    private(set) var hubReachable = true
    private(set) var lastSync: Double?
    private(set) var lastError: String?
    private(set) var working = false
    private(set) var ready = false
    private var stopping = false
    private var pullRequested = true
    /// A page the feed already holds, and the cursor it starts from.
    private var deliveredPage: (page: SyncEngine.Page, since: Int64, basesMoved: Int)?
    /// A delivered page this small, applied whole, ends the step's pull.
    static let fewChanges = 16
    /// Failed pulls in a row, and when the next may be tried: a hub that is down or
    /// refuses the token is asked again after the retry policy's backoff, not at once.
    private var pullFailures = 0
    private var pullRetryAt = 0.0
    private(set) var localFailures = LocalFailures()
    /// What failed here in the last step (nil once a step succeeds again).
    var localError: String? { localFailures.error }
    private var rescanInterval: Double
    private var nextRescan: Double
    /// Records scanned, pushed or pulled since memory was last handed back.
    private var workSinceTrim = 0
    /// Manual syncs: asked for, and the last one finished, by number.
    private var manualAsked = 0
    private(set) var manualDone = 0
    private(set) var manualReport = SyncReport()
    private var jobs: [Job] = []
    /// The hub answered again after being away: operations waiting out a backoff go at
    /// the start of the next step (the engine is touched only from steps).
    private var retryWaitingNow = false
    /// `resume --allow-deletes` asked to let held deletions through (applied in a step).
    private var allowDeletesAsked = false
    private var startedOnce = false
    private var loggedProblems: Set<String> = []
    /// The unapplied hub changes already said in the journal ("key: cause").
    private var loggedUnapplied: Set<String> = []
    private var lastStatus = ""
    private var offlineJournal = OfflineJournal()
    /// A pause or resume the state could not keep (a full disk): saved again at each
    /// step until it is, or a restart would undo it.
    private var pauseUnsaved = false
    private var lastHold: String?

    /// How often the root is scanned when inotify cannot watch all of it.
    static let fallbackScanSeconds = 2.0

    init(
        engine: SyncEngine, inbox: ChangeInbox, doorbell: Doorbell, metrics: DaemonMetrics, watcher: InotifyWatcher?, rescanInterval: Double,
        notifier: SystemdNotifier, logger: Logger, clock: any SyncClock = WallClock()
    ) {
        self.engine = engine
        self.clock = clock
        self.inbox = inbox
        self.doorbell = doorbell
        self.metrics = metrics
        self.watcher = watcher
        self.rescanInterval = rescanInterval
        self.notifier = notifier
        self.logger = logger
        nextRescan = 0  // the start-up scan
    }

    /// Takes what the state kept from before a restart: a daemon paused then stays
    /// paused, and status says when it last synced rather than "never".
    func restoreFromState() async {
        lastSync = try? await engine.lastSyncInState()
        paused = (try? await engine.pausedInState()) ?? false
        if paused { logger.notice("paused (kept from before the restart); run accordctl resume to sync again") }
    }

    // MARK: Running

    func run() async {
        while !stopping {
            await step()
            if stopping { break }
            let now = clock.now()
            await doorbell.wait(seconds: await nextWake(now: now) - now)
        }
        refuseJobs()
        if let lastSync { try? await engine.saveLastSync(lastSync) }
        if pauseUnsaved { try? await engine.savePaused(paused) }
        // What a full disk held back is committed if there is room by now: lost, an
        // edit made to those files meanwhile could be taken for no edit.
        try? await engine.commitHeld()
    }

    /// Finish the step in progress, then stop (SIGTERM). Pending work stays in the outbox;
    /// jobs still queued are answered with `LoopStopped`.
    func stop() {
        stopping = true
        refuseJobs()
        doorbell.ring()
    }

    private func refuseJobs() {
        let waiting = jobs
        jobs = []
        for job in waiting { job.refuse() }
    }

    private func nextWake(now: Double) async -> Double {
        if !jobs.isEmpty || manualAsked > manualDone { return now }
        // While a local failure lasts, the next step is its retry: a step skipped an
        // instant before the retry time must not leave that retry to the next event.
        if localFailures.error != nil { return max(now, localFailures.retryAt) }
        if pullRequested && !paused && now >= pullRetryAt { return now }
        var wake = min(nextRescan, now + 60)
        if pullRequested && !paused { wake = min(wake, pullRetryAt) }
        if !paused, let retry = try? await engine.nextUnappliedTime() { wake = min(wake, max(retry, now + 0.001)) }
        if let deadline = inbox.nextDeadline { wake = min(wake, deadline) }
        if let settle = await engine.deletionsSettleAt { wake = min(wake, settle) }
        if !paused, let retry = try? await engine.nextAttemptTime() { wake = min(wake, max(retry, now + 0.001)) }
        if inbox.limitReached || !(watcher?.isWatchingRoot ?? false) { wake = min(wake, now + Self.fallbackScanSeconds) }
        return wake
    }

    private func step() async {
        working = true
        // STATUS= says what the daemon does now: published once the step is over, or it
        // would read "syncing" until the next step, minutes later.
        defer {
            working = false
            publishStatus()
        }
        while !jobs.isEmpty {
            let job = jobs.removeFirst()
            await job.run(engine)
        }
        let now = clock.now()
        let manual = manualAsked > manualDone ? manualAsked : nil
        // After a local failure nothing is tried before its backoff is over (the
        // watcher's changes and the requests below wait), unless an operator asks.
        if now < localFailures.retryAt && manual == nil { return }
        var failedHere: String?
        if pauseUnsaved {
            do {
                try await engine.savePaused(paused)
                pauseUnsaved = false
            } catch {
                failedHere = "cannot keep \(paused ? "the pause" : "the resume") in the state database: \(error)"
            }
        }
        if retryWaitingNow {
            retryWaitingNow = false
            try? await engine.retryNow()
        }
        if allowDeletesAsked {
            allowDeletesAsked = false
            await engine.allowDeletions()
        }
        // A manual sync's report covers its own step and the steps after it (what it
        // waits to settle), until the next manual sync starts a new one.
        if manual != nil { manualReport = SyncReport() }
        let due = inbox.take(at: now)
        let fallback = inbox.limitReached || !(watcher?.isWatchingRoot ?? false)
        var report = SyncReport()
        do {
            let settling = await engine.deletionsSettleAt.map { $0 <= now } ?? false
            if due.fullRescan || manual != nil || now >= nextRescan || fallback || settling {
                if let watcher, !watcher.isWatchingRoot, SyncEngine.isRootFolder(await engine.settings.root) { watcher.rewatch() }
                let result = try await engine.scan()
                report.queued += result.queued
                report.problems = result.problems.count
                nextRescan = now + rescanInterval * Double.random(in: 0.9...1.1)
                logProblems(result.problems, replacing: true)
            } else if !due.paths.isEmpty {
                let result = try await engine.scan(paths: due.paths)
                report.queued += result.queued
                if let reason = result.fullScan { logger.debug("full scan instead of \(due.paths.count) paths: \(reason)") }
                logProblems(result.problems, replacing: result.fullScan != nil)
            }
        } catch {
            // The paths taken are not lost: the next step scans the whole root.
            nextRescan = 0
            failedHere = "the scan failed: \(error)"
        }
        let hold = await engine.holdReason
        if hold != lastHold {
            if let hold {
                let count = await engine.heldDeletions.count
                logger.warning(
                    "\(count) deletions held by the mass-delete guard: \(hold); check the root, then run accordctl resume --allow-deletes to let them through")
            } else if lastHold != nil {
                logger.notice("the mass-delete guard released its hold")
            }
            lastHold = hold
        }
        if !ready {
            ready = true
            notifier.notify("READY=1")
            logger.info("first scan done; syncing with the hub")
        }
        if !paused {
            if manual != nil || !startedOnce {
                // A manual sync (and the first step after a start) tries everything
                // again, even operations the hub refused for good before.
                try? await engine.retryUnappliedNow()
                try? await engine.retryNow(includingParked: true)
                startedOnce = true
            }
            if let failure = await exchange(into: &report, firstSeen: due.firstSeen, manual: manual != nil) { failedHere = failedHere ?? failure }
            await logUnapplied()
        }
        await settleLocalFailure(failedHere)
        manualReport.add(report)
        if let manual { manualDone = manual }
        // After bulk work, hand freed memory back: an idle daemon should not keep the
        // peak of its last big push or pull (which may come as many small steps).
        workSinceTrim += report.pushed + report.pulled + report.queued
        if workSinceTrim > 500 {
            MemoryTrim.returnFreedMemory()
            workSinceTrim = 0
        }
    }

    /// Push what is due, pull what the hub has, and push again what merges queued.
    /// Returns what failed here rather than at the hub, if anything did.
    private func exchange(into report: inout SyncReport, firstSeen: Double?, manual: Bool) async -> String? {
        do {
            let pushed = try await engine.push()
            report.add(pushed)
            metrics.observeLatency(clock.now() - (firstSeen ?? clock.now()), count: firstSeen == nil ? 0 : pushed.pushed)
            if let failure = pushed.unreachable, pushed.pushed == 0 {
                // Every send failed for a reason that may pass: the hub is away. The
                // operations wait out their backoff in the outbox.
                count(report)
                await setReachable(false, error: failure)
                return nil
            }
            // Only an answer from the hub says it is reachable: a round with nothing due
            // must not clear an offline state that a failed send just set.
            var contacted = pushed.pushed + pushed.merged + pushed.rejected > 0
            if (pullRequested && clock.now() >= pullRetryAt) || manual {
                pullRequested = false
                var caughtUp = false
                if let delivered = deliveredPage {
                    deliveredPage = nil
                    report.add(try await engine.apply(delivered.page, since: delivered.since, basesMoved: delivered.basesMoved))
                    // A long-poll's page of a few changes (an edit or two), applied
                    // whole, leaves nothing to ask the hub: the feed already waits for
                    // what comes after it, and asking anyway cost a round trip before
                    // the next local edit could go. After a larger page the pull goes
                    // on: in bulk it gathers what came meanwhile into full pages, far
                    // cheaper to write than each small page the feed would bring.
                    let cursor = try await engine.cursor()
                    caughtUp = !manual && delivered.page.changes.count <= Self.fewChanges && cursor == delivered.page.lastSeq
                }
                for _ in 0..<1000 where !caughtUp {
                    let before = try await engine.cursor()
                    let pulled = try await engine.pull()
                    report.add(pulled)
                    if try await engine.cursor() == before { break }
                }
                // While deletions are held the pull asks the hub nothing.
                if await engine.holdReason == nil { contacted = true }
                pullFailures = 0
                report.add(try await engine.retryUnapplied())
                let again = try await engine.push()
                report.add(again)
            } else {
                report.add(try await engine.retryUnapplied())
            }
            count(report)
            if report.retrying == 0 {
                if contacted {
                    lastSync = clock.now()
                    // The hub answered and nothing waits for it: an old error is history.
                    if localError == nil { lastError = nil }
                    await setReachable(true, error: nil)
                }
            } else {
                lastError = "some changes wait for the hub (retrying): \(report.unreachable ?? "")"
            }
        } catch let error as HubError {
            count(report)
            pullRequested = true
            var retryAfter: Double?
            if case .retryable(_, let after) = error { retryAfter = after }
            pullRetryAt = clock.now() + (await engine.retryDelay(attempt: pullFailures, retryAfter: retryAfter))
            pullFailures += 1
            await setReachable(false, error: error.description)
        } catch {
            count(report)
            // What the pull took is asked for again once the backoff is over.
            pullRequested = true
            return "sync step failed: \(error)"
        }
        return nil
    }

    /// Starts or extends the backoff after a step that failed here, saying so in the
    /// journal once per distinct cause; or, after a step that did not, ends it.
    private func settleLocalFailure(_ failure: String?) async {
        guard let failure else {
            if let ended = localFailures.succeeded() {
                logger.notice("syncing again after a local failure (\(ended))")
                if lastError == ended { lastError = nil }
            }
            return
        }
        // The retry policy's backoff, from 0.8 s doubling up to its maximum, with a floor
        // (its full jitter may draw nearly nothing).
        let delay = max(0.5, await engine.retryDelay(attempt: localFailures.count + 3))
        if localFailures.failed(failure, retryAt: clock.now() + delay) {
            logger.error("\(failure); retrying with backoff (check the disk under the state database and the root)")
        }
        lastError = failure
    }

    private func count(_ report: SyncReport) {
        metrics.counters.withLock { counters in
            counters.pushes += report.pushed
            counters.pulls += report.pulled
            counters.merges += report.merged
            counters.retries += report.retrying
            counters.conflicts += report.conflicts
            counters.rejected += report.rejected
        }
        if report.pushed + report.pulled + report.merged + report.conflicts + report.rejected > 0 {
            logger.info(
                "pushed \(report.pushed), pulled \(report.pulled), merged \(report.merged), conflicts \(report.conflicts), rejected \(report.rejected)")
        }
    }

    private func logProblems(_ problems: [RecordProblem], replacing: Bool) {
        let lines = Set(problems.map(\.description))
        for line in lines.subtracting(loggedProblems).sorted() { logger.warning("invalid, not synced: \(line)") }
        loggedProblems = replacing ? lines : loggedProblems.union(lines)
    }

    /// Hub changes that cannot be written to the root (a folder the daemon may not
    /// write, a full disk) wait and are retried by themselves; each one's cause goes to
    /// the journal once, as a warning, not only to the event log.
    private func logUnapplied() async {
        guard let (waiting, _) = try? await engine.unappliedChanges(limit: 50) else { return }
        let lines = Set(waiting.map { "\($0.key): \($0.lastError)" })
        let fresh = lines.subtracting(loggedUnapplied).sorted()
        // A whole folder refused must not flood the journal: a few, then a count.
        for line in fresh.prefix(5) { logger.warning("hub change not written to the root, retried later: \(line)") }
        if fresh.count > 5 { logger.warning("and \(fresh.count - 5) more hub changes not written to the root; accordctl status lists them") }
        loggedUnapplied = lines
    }

    private func publishStatus() {
        let line = statusLine
        if line != lastStatus {
            lastStatus = line
            notifier.notify("STATUS=" + line)
        }
    }

    private var statusLine: String {
        "\(stateName); last sync \(lastSync.map { RFC3339.format($0) } ?? "never")"
    }

    // MARK: Asked from outside

    /// The feed saw changes on the hub (or the hub is back).
    func requestPull() {
        pullRequested = true
        doorbell.ring()
    }

    /// The feed brings a page of changes read after `since`, asked for when the
    /// engine's `basesMoved` was `basesMoved`: the next step applies it without asking
    /// the hub again (if the cursor is still there and no push moved a base since),
    /// then pulls on.
    func deliver(_ page: SyncEngine.Page, since: Int64, basesMoved: Int) {
        deliveredPage = (page, since, basesMoved)
        requestPull()
    }

    func setReachable(_ reachable: Bool, error: String?) async {
        let now = clock.now()
        let cause = error ?? "unknown error"
        if reachable != hubReachable {
            if reachable {
                let line = "the hub is reachable again; sending what waited"
                if offlineJournal.backOnline() { logger.notice("\(line)") } else { logger.debug("\(line)") }
                pullRetryAt = 0
                retryWaitingNow = true
                pullRequested = true
                doorbell.ring()
            } else {
                // Not always "unreachable": a hub that answers with a feed this root
                // cannot follow, or refuses the token, stops the sync as well.
                let line = "not syncing with the hub: \(cause); changes wait in the outbox"
                if offlineJournal.wentOffline(cause, now: now) { logger.warning("\(line)") } else { logger.debug("\(line)") }
            }
        } else if !reachable, offlineJournal.stillOffline(cause, now: now) {
            logger.warning("still not syncing with the hub: \(cause); changes wait in the outbox")
        }
        hubReachable = reachable
        if let error { lastError = error }
        publishStatus()
        if !reachable { await engine.hubLost() }
    }

    /// Queues a manual sync (rescan, push, pull); returns its number for `waitFor`.
    func requestSync() -> Int {
        manualAsked += 1
        doorbell.ring()
        return manualAsked
    }

    func pause() async {
        paused = true
        await savePause()
        publishStatus()
    }

    /// Keeps the pause (or its end) in the state; one it cannot keep is saved again at
    /// the next step.
    private func savePause() async {
        do {
            try await engine.savePaused(paused)
            pauseUnsaved = false
        } catch {
            pauseUnsaved = true
            logger.error("cannot keep \(paused ? "the pause" : "the resume") in the state database: \(error); saved again at the next step")
        }
    }

    func resume(allowDeletes: Bool) async {
        paused = false
        // While paused nothing was asked of the hub: it may have been restored or
        // replaced since, so the feed is looked at before anything is pushed.
        await engine.hubLost()
        await savePause()
        pullRetryAt = 0
        if allowDeletes {
            allowDeletesAsked = true
            inbox.requestFullRescan()
        }
        pullRequested = true
        doorbell.ring()
        publishStatus()
    }

    /// Runs `job` on the loop with the engine, between steps, and returns its result.
    /// Throws `LoopStopped` if the loop stops before the job could run.
    func perform<T: Sendable>(_ job: @escaping @Sendable (SyncEngine) async throws -> T) async throws -> T {
        guard !stopping else { throw LoopStopped() }
        return try await withCheckedThrowingContinuation { continuation in
            jobs.append(
                Job(
                    run: { engine in
                        do { continuation.resume(returning: try await job(engine)) } catch { continuation.resume(throwing: error) }
                    }, refuse: { continuation.resume(throwing: LoopStopped()) }))
            doorbell.ring()
        }
    }

    /// Reads from the engine without waiting for the step in progress: only the
    /// engine's read-only members may be used here (status, counts, events).
    func read<T: Sendable>(_ query: @Sendable (SyncEngine) async throws -> T) async rethrows -> T {
        try await query(engine)
    }

    /// Jobs waiting for the next step.
    var queuedJobs: Int { jobs.count }

    /// A config reload: the engine takes the new settings (and token) between steps.
    func reconfigure(_ settings: SyncSettings, hub: HubClient) async throws {
        try await perform { engine in await engine.reconfigure(settings, hub: hub) }
    }

    func setRescanInterval(_ seconds: Double) {
        rescanInterval = seconds
    }

    var stateName: String {
        if paused { return "paused" }
        if !hubReachable { return "offline" }
        return working ? "syncing" : "idle"
    }
}

extension SyncEngine {
    static func isRootFolder(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }
}
