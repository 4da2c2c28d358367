import Crypto

/// SHA-256 of bytes, through swift-crypto (BoringSSL's assembly on Linux): content
/// hashes key the file index, and hub tokens are stored only as their SHA-256.
package enum ContentHash {
    /// The 32-byte digest.
    package static func digest(_ bytes: some Collection<UInt8>) -> [UInt8] {
        if let digest = bytes.withContiguousStorageIfAvailable({ Array(Crypto.SHA256.hash(data: UnsafeRawBufferPointer($0))) }) {
            return digest
        }
        return Array(Crypto.SHA256.hash(data: Array(bytes)))
    }

    /// The digest as 64 lower-case hex digits.
    package static func hex(_ bytes: some Collection<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8](repeating: 0, count: 64)
        for (index, byte) in digest(bytes).enumerated() {
            text[index * 2] = digits[Int(byte >> 4)]
            text[index * 2 + 1] = digits[Int(byte & 0x0F)]
        }
        return String(decoding: text, as: UTF8.self)
    }

    package static func hex(_ text: String) -> String {
        hex(Array(text.utf8))
    }
}
