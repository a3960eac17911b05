import Testing
@testable import VigilStore

/// Elasticsearch's date math, against instants worked out by hand (UTC).
@Suite struct DateMathTests {
    /// 2026-11-25T13:45:30.250Z, a Wednesday.
    static let now: Int64 = 1_795_424_707_089 + 2 * 86_400_000 + 4 * 3_600_000 + 40 * 60_000 + 23_161

    private func iso(_ text: String, up: Bool = false) -> String? {
        DateMath.evaluate(text, now: DateMathTests.now, roundUp: up).map(DateFormats.formatISO)
    }

    @Test func anchorsArithmeticAndRounding() {
        #expect(iso("now") == "2026-11-25T13:45:30.250Z")
        #expect(iso("now-1h") == "2026-11-25T12:45:30.250Z")
        #expect(iso("now-1d/d") == "2026-11-24T00:00:00.000Z")
        #expect(iso("now-1d/d", up: true) == "2026-11-24T23:59:59.999Z")
        #expect(iso("now/w") == "2026-11-23T00:00:00.000Z")  // weeks start on Monday
        #expect(iso("now/M") == "2026-11-01T00:00:00.000Z")
        #expect(iso("now/y", up: true) == "2026-12-31T23:59:59.999Z")
        #expect(iso("now+1M-2d+3h") == "2026-12-23T16:45:30.250Z")
        #expect(iso("2024-01-31||+1M") == "2024-02-29T00:00:00.000Z")  // clamped, as plusMonths
        #expect(iso("2025-03-31T10:00:00Z||-1M/d") == "2025-02-28T00:00:00.000Z")
        #expect(iso("now-1y") == "2025-11-25T13:45:30.250Z")
    }

    @Test(arguments: ["now-", "now-1", "now/q", "now+1x", "nowish", "2026-99-99||+1d"])
    func rejects(_ text: String) {
        #expect(DateMath.evaluate(text, now: DateMathTests.now, roundUp: false) == nil)
    }

    @Test func tellsMathFromDates() {
        #expect(DateMath.isMath("now-1h") && DateMath.isMath("2026-01-01||/d"))
        #expect(!DateMath.isMath("2026-01-01T00:00:00Z"))
    }

    /// Every step is checked: what leaves Int64 milliseconds is no answer, never a trap.
    @Test(arguments: ["now-999999999999999d", "now+999999999999999d", "now-99999999999999999y", "now+9223372036854775807s",
                      "now-9223372036854775807M", "now-300000000y", "now+300000000y/y", "now-106752011949d-1d"])
    func overflowIsNil(_ text: String) {
        #expect(DateMath.evaluate(text, now: DateMathTests.now, roundUp: false) == nil)
        #expect(DateMath.evaluate(text, now: DateMathTests.now, roundUp: true) == nil)
    }

    @Test func extremesOfNow() {
        for now in [Int64.max, Int64.min, Int64.max - 1, Int64.min + 1] {
            for text in ["now/d", "now/w", "now/M", "now/y", "now/s", "now-1d", "now+1M", "now-1y/y"] {
                _ = DateMath.evaluate(text, now: now, roundUp: false)
                _ = DateMath.evaluate(text, now: now, roundUp: true)
            }
        }
        #expect(DateMath.evaluate("now+1s", now: .max, roundUp: false) == nil)
        #expect(DateMath.evaluate("now-1s", now: .min, roundUp: false) == nil)
    }
}

/// Elasticsearch's time values (`TimeValue.parseTimeValue`), worked out from its rules.
@Suite struct TimeValueTests {
    @Test(arguments: [("500ms", 500), ("30s", 30_000), ("5m", 300_000), ("2h", 7_200_000), ("1d", 86_400_000), ("-1", -1), ("0", 0),
                      ("1500micros", 1), ("2000000nanos", 2), (" 10S ", 10_000), ("9223372036854775807d", Int64.max)] as [(String, Int64)])
    func parses(_ text: String, _ millis: Int64) throws {
        #expect(try TimeValue.parse(text, name: "t").millis == millis)
    }

    @Test(arguments: [("5", "unit is missing or unrecognized"), ("abc", "unit is missing or unrecognized"), ("1.5s", "fractional time values are not supported"),
                      ("-2s", "negative durations are not supported"), ("99999999999999999999s", "failed to parse [99999999999999999999s]"), ("s", "failed to parse [s]")])
    func refuses(_ text: String, _ reason: String) {
        #expect { try TimeValue.parse(text, name: "t") } throws: { ($0 as? TimeValue.ParseError)?.message.contains(reason) == true }
    }

    @Test func saturatingSums() {
        #expect(Int64.max.addingSaturating(1) == .max)
        #expect(Int64.min.addingSaturating(-1) == .min)
        #expect(Int64.min.subtractingSaturating(1) == .min)
        #expect(Int64.max.subtractingSaturating(-1) == .max)
        #expect(Int64(5).addingSaturating(-7) == -2)
    }
}
