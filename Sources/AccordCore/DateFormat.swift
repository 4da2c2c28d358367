/// The two string formats records use: a calendar date and an RFC 3339 date-time.
/// Dates must exist: 2021-02-30 is rejected, 2024-02-29 accepted.
enum DateFormat: String, Sendable {
    case date
    case dateTime = "date-time"

    var example: String {
        switch self {
        case .date: "YYYY-MM-DD"
        case .dateTime: "YYYY-MM-DDTHH:MM:SSZ"
        }
    }

    func accepts(_ string: String) -> Bool {
        let bytes = Array(string.utf8)
        switch self {
        case .date: return bytes.count == 10 && Self.isDate(bytes[...])
        case .dateTime: return Self.isDateTime(bytes)
        }
    }

    static func isDate(_ bytes: ArraySlice<UInt8>) -> Bool {
        let b = Array(bytes)
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            let year = digits(b, 0, 4), let month = digits(b, 5, 2), let day = digits(b, 8, 2)
        else { return false }
        guard (1...12).contains(month), day >= 1 else { return false }
        return day <= daysIn(month: month, year: year)
    }

    static func isDateTime(_ b: [UInt8]) -> Bool {
        guard b.count >= 20, isDate(b[0..<10]), b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
            b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            let hour = digits(b, 11, 2), let minute = digits(b, 14, 2), let second = digits(b, 17, 2),
            hour <= 23, minute <= 59, second <= 60
        else { return false }
        var index = 19
        if b[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < b.count, isDigit(b[index]) { index += 1 }
            guard index > start else { return false }
        }
        guard index < b.count else { return false }
        if b[index] == UInt8(ascii: "Z") || b[index] == UInt8(ascii: "z") {
            return index + 1 == b.count
        }
        guard b[index] == UInt8(ascii: "+") || b[index] == UInt8(ascii: "-"), index + 6 == b.count,
            b[index + 3] == UInt8(ascii: ":"),
            let offsetHour = digits(b, index + 1, 2), let offsetMinute = digits(b, index + 4, 2)
        else { return false }
        return offsetHour <= 23 && offsetMinute <= 59
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func digits(_ b: [UInt8], _ start: Int, _ count: Int) -> Int? {
        var value = 0
        for index in start..<(start + count) {
            guard index < b.count, isDigit(b[index]) else { return nil }
            value = value * 10 + Int(b[index] - UInt8(ascii: "0"))
        }
        return value
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}
