import ServiceLifecycle

/// `WATCHDOG=1` at half of `WATCHDOG_USEC`, as long as the process's tasks run.
package struct Watchdog: Service {
    package let notifier: SystemdNotifier

    package init(notifier: SystemdNotifier) {
        self.notifier = notifier
    }

    package func run() async throws {
        guard let interval = notifier.watchdogInterval else { return }
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                notifier.notify("WATCHDOG=1")
                try await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
            }
        }
    }
}
