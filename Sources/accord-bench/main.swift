import AccordCore
import AccordFiles
import CLinux
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `accord-bench`: benchmarks that print figures. They never fail for being slow.
///
///     swift run -c release accord-bench parse [--records N] [--record-bytes B] [--dir DIR]
///     swift run -c release accord-bench sync [--records N] [--hub PATH] [--round-trips N] [--tls yes] [--http2 no]
///     swift run -c release accord-bench scan [--records N] [--dir DIR]
///     swift run -c release accord-bench daemon [--records N] [--edits N] [--idle-seconds S] [--bin .build/release]
///     swift run -c release accord-bench team [--records N] [--edits N] [--rtt-ms MS] [--idle-seconds S] [--lsyncd yes|no]
///     swift run -c release accord-bench hubload [--idle N] [--long-polls N] [--slow N] [--records N]

// Figures appear as they are measured, also when the output goes to a file or a pipe.
accord_line_buffered_stdout()
let arguments = Array(CommandLine.arguments.dropFirst())
guard let name = arguments.first else {
    print("usage: accord-bench parse [--records N] [--record-bytes B] [--dir DIR] [--rounds N]")
    print("       accord-bench sync [--records N] [--hub .build/release/accordhub] [--round-trips N] [--concurrency N] [--tls yes] [--http2 no]")
    print("       accord-bench scan [--records N] [--dir DIR]")
    print("       accord-bench team [--records N] [--edits N] [--rtt-ms MS] [--idle-seconds S] [--lsyncd yes|no] [--bin .build/release]")
    print("       accord-bench daemon [--records N] [--edits N] [--idle-seconds S] [--bin .build/release]")
    print("       accord-bench hubload [--idle N] [--long-polls N] [--slow N] [--records N] [--bin .build/release]")
    exit(2)
}
switch name {
case "parse":
    ParseBenchmark(options: BenchOptions(arguments.dropFirst())).run()
case "sync":
    await SyncBenchmark(options: BenchOptions(arguments.dropFirst())).run()
case "team":
    await TeamBenchmark(options: BenchOptions(arguments.dropFirst())).run()
case "scan":
    await ScanBenchmark(options: BenchOptions(arguments.dropFirst())).run()
case "daemon":
    await DaemonBenchmark(options: BenchOptions(arguments.dropFirst())).run()
case "hubload":
    await HubLoadBenchmark(options: BenchOptions(arguments.dropFirst())).run()
default:
    print("accord-bench: unknown benchmark \(name); known: parse, sync, scan, team, daemon, hubload")
    exit(2)
}
