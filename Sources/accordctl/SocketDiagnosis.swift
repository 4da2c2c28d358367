import AccordCore

#if canImport(Glibc)
    import Glibc
#endif

/// Why accordctl could not reach the daemon's socket, in words a user can act on, in
/// place of libcurl's ("Failed to connect to accordd port 80 after 0 ms").
enum SocketDiagnosis: Equatable {
    /// Nothing at the path: no daemon, or it uses another socket.
    case missing
    /// The folder holding the socket cannot be entered (a user outside the group).
    case folderDenied(folder: String)
    case notASocket
    /// The socket is there, but this user may not connect to it.
    case socketDenied
    /// The socket is there and may be used, but no process accepts on it.
    case nobodyListening
    /// Anything else: the transport's own words.
    case other(String)

    /// Looks at `path` and at what the connection attempt said (`curlCode` 7 is
    /// "could not connect").
    static func examine(_ path: String, curlCode: Int?, curlMessage: String) -> SocketDiagnosis {
        var info = stat()
        if stat(path, &info) != 0 {
            let failure = errno
            if failure == EACCES { return .folderDenied(folder: PathFolder.of(path)) }
            if failure == ENOENT || failure == ENOTDIR { return .missing }
            return .other(String(cString: strerror(failure)))
        }
        if info.st_mode & S_IFMT != S_IFSOCK { return .notASocket }
        if access(path, R_OK | W_OK) != 0 { return .socketDenied }
        if curlCode == 7 { return .nobodyListening }
        return .other(curlMessage)
    }

    /// The one line after "cannot reach accordd at PATH: ": what is wrong, then what to do.
    func explanation(socket path: String) -> String {
        switch self {
        case .missing:
            return "no such socket: accordd is not running or uses another socket; check systemctl status accordd, or pass --socket PATH"
        case .folderDenied(let folder):
            return
                "permission denied: cannot open \(folder); join the group that owns it (usually accord: sudo usermod -aG accord $USER, then log in again) or use sudo"
        case .notASocket:
            return "\(path) is not a socket; pass the daemon's control.socket with --socket PATH"
        case .socketDenied:
            return "permission denied on the socket; join its group (usually accord: sudo usermod -aG accord $USER, then log in again) or use sudo"
        case .nobodyListening:
            return "nobody is listening on the socket: accordd is not running; check systemctl status accordd and journalctl -u accordd"
        case .other(let reason):
            return "\(reason); check systemctl status accordd"
        }
    }
}
