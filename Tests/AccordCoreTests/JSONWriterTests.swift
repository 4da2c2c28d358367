import Testing

@testable import AccordCore

@Suite("JSON writer")
struct JSONWriterTests {
    @Test func writesTheProjectStyle() {
        let value = JSONValue.object(object(#"{"kind": "news", "id": "a", "tags": ["x", "y"], "image": {"caption": "c"}, "empty": [], "none": {}, "n": 1.50}"#))
        let expected = """
            {
              "kind": "news",
              "id": "a",
              "tags": [
                "x",
                "y"
              ],
              "image": {
                "caption": "c"
              },
              "empty": [],
              "none": {},
              "n": 1.50
            }

            """
        #expect(JSONWriter.pretty(value) == expected)
    }

    @Test func writesJSONLines() {
        let value = JSONValue.object(object(#"{"kind": "news", "id": "a", "tags": ["x"], "v": {"a": null}}"#))
        #expect(JSONWriter.line(value) == #"{"kind": "news", "id": "a", "tags": ["x"], "v": {"a": null}}"#)
    }

    @Test func escapesLikeThePythonStyle() {
        let value = JSONValue.string("q\"b\\n\nt\tc\u{01}é/")
        #expect(JSONWriter.line(value) == #""q\"b\\n\nt\tc\u0001é/""#)
    }

    @Test(
        "an unchanged record in house style rewrites to the same bytes",
        arguments: [
            """
            {
              "kind": "agreement",
              "id": "us-japan-hns-fy2021",
              "value": {
                "amount": 1910000000,
                "currency": "USD"
              },
              "parties": [
                "United States",
                "Japan"
              ],
              "notes": "line one\\nline two — “quoted”",
              "ratio": 1.50e3,
              "flag": false,
              "nothing": null
            }

            """,
            "{\n  \"kind\": \"news\",\n  \"id\": \"x\",\n  \"body\": \"\\u0007\"\n}\n",
        ])
    func roundTrips(_ text: String) throws {
        let value = try JSONParser.parse(text)
        #expect(JSONWriter.pretty(value) == text)
    }
}
