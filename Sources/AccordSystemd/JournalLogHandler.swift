import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Logs to stderr one line per message: with a journald priority prefix (`<6>`), so
/// journald files each line at its level, or as JSON lines for log shippers. The
/// level is shared by every logger and changes on reload.
package struct JournalLogHandler: LogHandler {
    package enum Format: String, Sendable {
        case text
        case json
    }

    /// The level and format every handler reads: SIGHUP changes them in one place.
    package static let shared = Mutex<(level: Logger.Level, format: Format)>((.info, .text))

    package var metadata: Logger.Metadata = [:]
    package let label: String

    package init(label: String) {
        self.label = label
    }

    package var logLevel: Logger.Level {
        get { Self.shared.withLock { $0.level } }
        set { Self.shared.withLock { $0.level = newValue } }
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// The contract's level names (syslog's): notice and warning map to swift-log's.
    package static func level(named name: String) -> Logger.Level? {
        switch name {
        case "trace": .trace
        case "debug": .debug
        case "info": .info
        case "notice": .notice
        case "warning": .warning
        case "error": .error
        default: nil
        }
    }

    package func log(event: LogEvent) {
        log(
            level: event.level, message: event.message, metadata: event.metadata, source: event.source, file: event.file, function: event.function,
            line: event.line)
    }

    package func log(
        level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String, file: String, function: String, line: UInt
    ) {
        let (threshold, format) = Self.shared.withLock { ($0.level, $0.format) }
        // The HTTP framework's own info lines ("Server started and listening on …") repeat
        // what the hub says itself: kept for debug logs only.
        if level == .info, source.hasPrefix("Hummingbird"), threshold > .debug { return }
        var text = message.description
        var fields = metadata
        if let extra { fields.merge(extra) { $1 } }
        let output: String
        switch format {
        case .text:
            if !fields.isEmpty { text += " " + fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
            output = "<\(Self.priority(level))>\(Self.oneLine(text))\n"
        case .json:
            var object = "{\"level\":\"\(level)\",\"time\":\(Self.now()),\"message\":\(Self.quoted(text))"
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) { object += ",\(Self.quoted(key)):\(Self.quoted("\(value)"))" }
            output = object + "}\n"
        }
        let bytes = Array(output.utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    /// syslog priorities, as sd-daemon(3) reads them from the line's start.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    static func oneLine(_ text: String) -> String {
        text.contains("\n") ? text.replacingNewlines() : text
    }

    static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return "\(Double(spec.tv_sec) + Double(spec.tv_nsec / 1_000_000) / 1000)"
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

extension String {
    fileprivate func replacingNewlines() -> String {
        String(unicodeScalars.map { $0 == "\n" || $0 == "\r" ? " " : Character($0) })
    }
}
