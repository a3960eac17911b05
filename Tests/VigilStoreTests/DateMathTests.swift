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
}
