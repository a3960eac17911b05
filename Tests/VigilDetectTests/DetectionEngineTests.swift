import Foundation
import Testing
import VigilJSON
import VigilStore
@testable import VigilDetect

@Suite struct RuleScheduleTests {
    let minute: Int64 = 60_000

    func rule(_ interval: String, from: String) -> Rule {
        Rule(json: ["interval": .string(interval), "from": .string(from), "to": "now"])
    }

    @Test func firstRunSearchesFromTheLookback() throws {
        let now: Int64 = 1_000 * minute
        let p = try RuleSchedule.plan(rule("5m", from: "now-6m"), now: now, coveredTo: nil, scheduled: now)
        #expect(p.window.from == now - 6 * minute && p.window.to == now)
        #expect(p.gap == 0 && p.nextRun == now + 5 * minute)
    }

    @Test func overlappingRunsHaveNoGap() throws {
        let now: Int64 = 1_000 * minute
        let p = try RuleSchedule.plan(rule("5m", from: "now-6m"), now: now, coveredTo: now - 5 * minute, scheduled: now)
        #expect(p.gap == 0 && p.window.from == now - 6 * minute)
    }

    @Test func afterDowntimeTheWindowReachesBackAndTheGapIsReported() throws {
        let now: Int64 = 1_000 * minute
        // The last run ended an hour ago.
        let p = try RuleSchedule.plan(rule("5m", from: "now-6m"), now: now, coveredTo: now - 60 * minute, scheduled: now - 55 * minute)
        #expect(p.window.from == now - 60 * minute && p.window.to == now)
        #expect(p.gap == 54 * minute)
        // Missed slots are not replayed one by one: the next run is an interval from now.
        #expect(p.nextRun == now + 5 * minute)
    }

    @Test func durations() {
        #expect(RuleSchedule.duration("30s") == 30_000)
        #expect(RuleSchedule.duration("5m") == 300_000)
        #expect(RuleSchedule.duration("2h") == 7_200_000)
        #expect(RuleSchedule.duration("1d") == 86_400_000)
        #expect(RuleSchedule.duration("0m") == nil)
        #expect(RuleSchedule.duration("5 minutes") == nil)
        #expect(RuleSchedule.duration("m") == nil)
        #expect(RuleSchedule.duration("99999999999999999999d") == nil)
        #expect(RuleSchedule.duration("106751991167301d") == nil)  // past Int64 milliseconds
    }

    /// A stored rule whose values cannot be planned is an error for its run, never a trap.
    @Test(arguments: [("5m", "now-999999999999999d"), ("5m", "now+300000000y"), ("0s", "now-6m"), ("99999999999999999999d", "now-6m"),
                      ("5m", "garbage")])
    func unplannableRulesThrow(_ interval: String, _ from: String) {
        #expect(throws: RuleSchedule.PlanError.self) {
            try RuleSchedule.plan(rule(interval, from: from), now: 1_000 * minute, coveredTo: nil, scheduled: 0)
        }
    }

    @Test func extremeStatesSaturate() throws {
        let p = try RuleSchedule.plan(rule("5m", from: "now-6m"), now: 1_000 * minute, coveredTo: .min, scheduled: .max)
        #expect(p.gap > 0 && p.nextRun == .max)
    }
}

@Suite struct RuleServiceTests {
    func service() throws -> RuleService {
        var s = RuleService(control: try ControlStore(path: nil))
        s.check = { RuleCompiler.syntaxError($0) }
        return s
    }

    let body: JSONObject = ["rule_id": "r", "name": "R", "description": "d", "risk_score": 21, "severity": "low", "type": "query", "query": "a : b"]

    @Test func createAppliesKibanaDefaults() throws {
        let s = try service()
        let r = try s.create(body)
        #expect(r["enabled"] == .bool(true) && r["interval"] == "5m" && r["from"] == "now-6m" && r["max_signals"] == 100)
        #expect(r["language"] == "kuery" && r["revision"] == 0 && r["id"]?.stringValue?.count == 36)
        #expect(throws: RuleAPIError.self) { try s.create(body) }
    }

    @Test func validationNamesEveryProblem() throws {
        let s = try service()
        do {
            _ = try s.create(["type": "eql", "query": "process where true"])
            Issue.record("accepted an invalid rule")
        } catch let e as RuleAPIError {
            #expect(e.status == 400)
            for part in ["name: Required", "description: Required", "risk_score: Required", "severity: Required", "language"] {
                #expect(e.message.contains(part), "\(part) missing from \(e.message)")
            }
        }
        var bad = body
        bad["query"] = "a : (b or"
        #expect(throws: RuleAPIError.self) { try s.create(bad) }
        bad = body
        bad["interval"] = "soon"
        #expect(throws: RuleAPIError.self) { try s.create(bad) }
    }

    @Test func findFiltersSortsAndPages() throws {
        let s = try service()
        for (i, name) in ["b", "a", "c"].enumerated() {
            var o = body
            o["rule_id"] = .string("r\(i)")
            o["name"] = .string(name)
            o["tags"] = i == 1 ? ["x"] : []
            _ = try s.create(o)
        }
        let page = try s.find(params: ["sort_field": "name", "sort_order": "desc", "per_page": "2"])
        #expect(page["total"] == 3)
        #expect(page["data"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["c", "b"])
        let tagged = try s.find(params: ["filter": "alert.attributes.tags: x"])
        #expect(tagged["data"]?.arrayValue?.compactMap { $0["rule_id"]?.stringValue } == ["r1"])
        let notTagged = try s.find(params: ["filter": "not alert.attributes.tags: x and alert.attributes.enabled: true"])
        #expect(notTagged["total"] == 2)
    }

    @Test func controlStateSurvivesReopening() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-control-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("control.sqlite").path
        var id = ""
        do {
            var s = RuleService(control: try ControlStore(path: path))
            s.clock = { 1_000 }
            id = try s.create(body)["id"]?.stringValue ?? ""
            try s.control.finish(id: id, state: .init(coveredTo: 900, nextRun: 2_000, lastSummary: ["status": "succeeded"]), run: ["n": 1], started: 1_000)
        }
        let control = try ControlStore(path: path)
        #expect(try control.rule(ruleId: "r")?.json["id"]?.stringValue == id)
        let state = try control.state(id: id)
        #expect(state?.coveredTo == 900 && state?.nextRun == 2_000 && state?.lastSummary?["status"] == "succeeded")
        #expect(try control.due(now: 1_999).isEmpty)
        #expect(try control.due(now: 2_000).count == 1)
        #expect(try control.runs(id: id).count == 1)
        try control.delete(ids: [id])
        #expect(try control.state(id: id) == nil && control.runs(id: id).isEmpty)
    }
}

@Suite struct ControlStoreScheduleTests {
    @Test func reenablingStartsFresh() throws {
        let control = try ControlStore(path: nil)
        var rule = Rule(json: ["id": "a", "rule_id": "r", "enabled": true])
        try control.save([rule], now: 1_000)
        try control.finish(id: "a", state: .init(coveredTo: 1_000, nextRun: 2_000, lastSummary: nil), run: [:], started: 1_000)
        rule.json["enabled"] = false
        try control.save([rule], now: 1_500)
        #expect(try control.due(now: 10_000).isEmpty)
        rule.json["enabled"] = true
        try control.save([rule], now: 9_000)
        let state = try control.state(id: "a")
        #expect(state?.coveredTo == nil && state?.nextRun == 9_000)
        // An update that leaves it enabled keeps its schedule.
        try control.finish(id: "a", state: .init(coveredTo: 9_000, nextRun: 12_000, lastSummary: nil), run: [:], started: 9_000)
        rule.json["name"] = "renamed"
        try control.save([rule], now: 9_500)
        #expect(try control.state(id: "a")?.coveredTo == 9_000)
    }
}
