import AccordCLI

#if canImport(Glibc)
    import Glibc
#endif

/// `accordctl`'s entry point: a synchronous `main` that runs the command at the default
/// priority (see `CommandRunner.mainAtDefaultPriority`).
@main
enum AccordctlMain {
    static func main() {
        // People run accordctl without leave to go below nice 0, and libdispatch's
        // event-manager thread asks for -4: its refusal would reach their journal at
        // every run. As in the units, libdispatch's own log is off unless asked for.
        setenv("LIBDISPATCH_LOG", "NO", 0)
        CommandRunner.mainAtDefaultPriority(Accordctl.self, arguments: Accordctl.movingSharedOptions(Array(CommandLine.arguments.dropFirst())))
    }
}
