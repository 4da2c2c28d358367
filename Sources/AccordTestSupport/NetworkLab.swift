import Foundation

/// Real network links for tests: a hub namespace and one namespace per daemon, each
/// joined to the hub's by its own veth pair, plus one pair from the test process's
/// namespace to the hub's (so the test can talk to the hub itself). Links are cut and
/// made lossy with nftables inside the daemon's namespace: a cut drops packets
/// silently, as a dead cable does (no RST, no ICMP). Addresses are in
/// 10.231.0.0/16, in namespaces this lab makes and removes itself; nothing leaves
/// the machine.
///
/// Needs root, `ip` (iproute2) and `nft` (nftables).
package final class NetworkLab: @unchecked Sendable {
    /// One daemon's side of the lab.
    package struct Host: Sendable {
        package let namespace: String
        /// The hub's address as this host reaches it.
        package let hubAddress: String
        /// `ip netns exec NS`: prefix for a command run on this host.
        package var wrapper: [String] { ["/usr/sbin/ip", "netns", "exec", namespace] }
    }

    package let hubNamespace: String
    /// The hub's address from the test process's namespace.
    package let hubAddressFromHere: String
    package private(set) var hosts: [Host] = []
    private let tag: String
    private var links: [String] = []

    /// True where the lab can run: root, with `ip` and `nft`.
    package static var isAvailable: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") && FileManager.default.isExecutableFile(atPath: "/usr/sbin/nft")
    }

    /// Makes the hub's namespace, its link to here, and `hostCount` daemon hosts.
    package init(hostCount: Int) throws {
        tag = String(UInt32.random(in: 0..<0xFFFF), radix: 16)
        hubNamespace = "acch\(tag)"
        hubAddressFromHere = "10.231.0.1"
        try Self.run(["netns", "add", hubNamespace])
        try Self.run(["-n", hubNamespace, "link", "set", "lo", "up"])
        do {
            try link(here: true, namespace: nil, subnet: 0, index: 0)
            for index in 1...hostCount {
                let namespace = "acc\(index)\(tag)"
                try Self.run(["netns", "add", namespace])
                try Self.run(["-n", namespace, "link", "set", "lo", "up"])
                try link(here: false, namespace: namespace, subnet: index, index: index)
                hosts.append(Host(namespace: namespace, hubAddress: "10.231.\(index).1"))
            }
        } catch {
            tearDown()
            throw error
        }
    }

    deinit {
        tearDown()
    }

    /// A veth pair: the hub's end is 10.231.N.1, the other 10.231.N.2.
    private func link(here: Bool, namespace: String?, subnet: Int, index: Int) throws {
        let hubEnd = "ach\(index)\(tag)"
        let otherEnd = "aco\(index)\(tag)"
        try Self.run(["link", "add", hubEnd, "type", "veth", "peer", "name", otherEnd])
        links.append(otherEnd)
        try Self.run(["link", "set", hubEnd, "netns", hubNamespace])
        try Self.run(["-n", hubNamespace, "addr", "add", "10.231.\(subnet).1/24", "dev", hubEnd])
        try Self.run(["-n", hubNamespace, "link", "set", hubEnd, "up"])
        if let namespace {
            try Self.run(["link", "set", otherEnd, "netns", namespace])
            try Self.run(["-n", namespace, "addr", "add", "10.231.\(subnet).2/24", "dev", otherEnd])
            try Self.run(["-n", namespace, "link", "set", otherEnd, "up"])
        } else {
            try Self.run(["addr", "add", "10.231.\(subnet).2/24", "dev", otherEnd])
            try Self.run(["link", "set", otherEnd, "up"])
        }
    }

    /// Drops every packet between `host` and the hub, silently, until `restore`.
    package func cut(_ host: Host) throws {
        try nft(host, "add table inet accord_fault")
        try nft(host, "add chain inet accord_fault in { type filter hook input priority 0; policy drop; }")
        try nft(host, "add chain inet accord_fault out { type filter hook output priority 0; policy drop; }")
    }

    /// Drops `percent` of the packets each way, at random.
    package func loss(_ host: Host, percent: Int) throws {
        try nft(host, "add table inet accord_fault")
        try nft(host, "add chain inet accord_fault in { type filter hook input priority 0; }")
        try nft(host, "add chain inet accord_fault out { type filter hook output priority 0; }")
        try nft(host, "add rule inet accord_fault in meta iifname != lo numgen random mod 100 < \(percent) drop")
        try nft(host, "add rule inet accord_fault out meta oifname != lo numgen random mod 100 < \(percent) drop")
    }

    /// Ends a cut or a loss.
    package func restore(_ host: Host) throws {
        try nft(host, "delete table inet accord_fault")
    }

    package func tearDown() {
        for namespace in [hubNamespace] + hosts.map(\.namespace) { try? Self.run(["netns", "delete", namespace]) }
        for name in links { try? Self.run(["link", "delete", name]) }
        hosts = []
        links = []
    }

    private func nft(_ host: Host, _ command: String) throws {
        try Self.execute(["/usr/sbin/ip", "netns", "exec", host.namespace, "/usr/sbin/nft"] + command.split(separator: " ").map(String.init))
    }

    private static func run(_ arguments: [String]) throws {
        try execute(["/usr/sbin/ip"] + arguments)
    }

    private static func execute(_ command: [String]) throws {
        let run = try ProgramRun.run(command[0], Array(command.dropFirst()))
        guard run.status == 0 else { throw TestSupportError("\(command.joined(separator: " ")) failed: \(run.stderr)") }
    }
}
