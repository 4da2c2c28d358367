import Testing

@testable import AccordCore

@Suite("SHA-256 content hashes")
struct ContentHashTests {
    @Test(
        "FIPS 180-4 and NIST vectors",
        arguments: [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
            (String(repeating: "a", count: 1_000), "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"),
            (String(repeating: "x", count: 55), "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072"),
        ])
    func vectors(_ input: String, _ expected: String) {
        #expect(ContentHash.hex(input) == expected)
        #expect(ContentDigest(of: Array(input.utf8)).hex == expected)
        #expect(ContentDigest(hex: expected) == ContentDigest(of: Array(input.utf8)))
        #expect(ContentDigest(hex: expected.uppercased()) == ContentDigest(of: Array(input.utf8)))
    }

    @Test func aDigestIsThirtyTwoBytesAndRefusesWhatIsNotHex() {
        #expect(MemoryLayout<ContentDigest>.size == 32)
        #expect(ContentDigest(hex: "") == nil)
        #expect(ContentDigest(hex: String(repeating: "g", count: 64)) == nil)
        #expect(ContentDigest(hex: String(repeating: "a", count: 63)) == nil)
        #expect(ContentDigest(of: Array("a".utf8)) != ContentDigest(of: Array("b".utf8)))
    }

    @Test func slicesAndArraysHashAlike() {
        let text = Array(String(repeating: "accord ", count: 100).utf8)
        #expect(ContentHash.digest(text[7..<130]) == ContentHash.digest(Array(text[7..<130])))
        #expect(ContentHash.digest(text).count == 32)
    }
}
