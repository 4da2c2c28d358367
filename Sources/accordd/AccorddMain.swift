import AccordCLI

/// `accordd`'s entry point: a synchronous `main` that runs the command at the default
/// priority (see `CommandRunner.mainAtDefaultPriority`).
@main
enum AccorddMain {
    static func main() {
        CommandRunner.mainAtDefaultPriority(AccorddCommand.self)
    }
}
