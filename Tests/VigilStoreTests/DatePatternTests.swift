import Testing
@testable import VigilStore

/// Dates printed by `fields` formats: Elasticsearch's built-in names and Java patterns, in UTC.
@Suite struct DatePatternTests {
    /// 2026-11-23T09:05:07.089Z, a Monday, day 327 of the year.
    static let instant: Int64 = 1_795_424_707_089

    @Test(arguments: [
        ("yyyy-MM-dd", "2026-11-23"),
        ("dd/MMM/yyyy:HH:mm:ss", "23/Nov/2026:09:05:07"),
        ("EEEE, MMMM d, yy h:mm a", "Monday, November 23, 26 9:05 AM"),
        ("EEE HH:mm:ss.SSS", "Mon 09:05:07.089"),
        ("yyyyMMdd'T'HHmmss.SSS'Z'", "20261123T090507.089Z"),
        ("D", "327"),
        ("SSSSSS", "089000"),
        ("xxx Z X", "+00:00 +0000 Z"),
        ("''yy''", "'26'"),
        ("basic_date_time", "20261123T090507.089Z"),
        ("date_hour_minute", "2026-11-23T09:05"),
        ("strict_date_optional_time||epoch_millis", "2026-11-23T09:05:07.089Z"),
        ("epoch_second", "1795424707"),
        ("epoch_millis||strict_date_optional_time", "1795424707089"),
        ("hour_minute_second_millis", "09:05:07.089"),
    ])
    func prints(_ format: String, _ expected: String) throws {
        #expect(try DatePattern(format).format(DatePatternTests.instant) == expected)
    }

    @Test func beforeTheEpochAndPastYear9999() throws {
        #expect(try DatePattern("yyyy-MM-dd HH:mm:ss.SSS").format(-1) == "1969-12-31 23:59:59.999")
        #expect(try DatePattern("yyyy-MM-dd").format(253_402_300_800_000) == "+10000-01-01")
    }

    @Test(arguments: ["yyyy-ww", "'open", "GGGG"])
    func rejectsWhatItCannotPrint(_ format: String) {
        #expect(throws: DatePattern.Invalid.self) { try DatePattern(format) }
    }
}
