import Foundation
import GRDB
public import VigilJSON

/// Control-plane state that is not events, in SQLite (`control.sqlite` in the data
/// directory): the rules, where each rule's schedule stands, and its execution history.
/// Every change is one transaction.
public final class ControlStore: Sendable {
    let db: DatabaseQueue

    /// Opens (creating when missing) the database at `path`; `nil` keeps it in memory.
    public init(path: String?) throws {
        if let path {
            db = try DatabaseQueue(path: path)
        } else {
            db = try DatabaseQueue()
        }
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE rules (
                    id TEXT PRIMARY KEY,
                    rule_id TEXT NOT NULL UNIQUE,
                    json TEXT NOT NULL
                );
                CREATE TABLE rule_state (
                    id TEXT PRIMARY KEY REFERENCES rules(id) ON DELETE CASCADE,
                    covered_to INTEGER,
                    next_run INTEGER NOT NULL,
                    last_summary TEXT
                );
                CREATE TABLE rule_runs (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL REFERENCES rules(id) ON DELETE CASCADE,
                    started INTEGER NOT NULL,
                    json TEXT NOT NULL
                );
                CREATE INDEX rule_runs_by_rule ON rule_runs(id, seq);
                """)
        }
        migrator.registerMigration("v2 objects") { db in
            // Exception lists and items, value lists and their values: JSON by kind, with the
            // key Kibana addresses them by (unique per kind) and the parent they belong to.
            try db.execute(sql: """
                CREATE TABLE objects (
                    kind TEXT NOT NULL,
                    id TEXT NOT NULL,
                    key TEXT NOT NULL,
                    parent TEXT,
                    json TEXT NOT NULL,
                    PRIMARY KEY (kind, id)
                );
                CREATE UNIQUE INDEX objects_by_key ON objects(kind, key);
                CREATE INDEX objects_by_parent ON objects(kind, parent);
                """)
        }
        try migrator.migrate(db)
    }

    // MARK: objects

    /// A stored object: its id, key, parent and JSON.
    public struct Object: Sendable {
        public var id: String
        public var key: String
        public var parent: String?
        public var json: JSONObject
        public init(id: String, key: String, parent: String?, json: JSONObject) {
            self.id = id
            self.key = key
            self.parent = parent
            self.json = json
        }
    }

    static func object(_ row: Row) -> Object {
        Object(id: row["id"], key: row["key"], parent: row["parent"], json: ControlStore.object(row["json"]))
    }

    /// Inserts or replaces objects (by id) in one transaction; false when another object of
    /// the kind has one of the keys (nothing is written then).
    public func put(_ kind: String, _ objects: [Object]) throws -> Bool {
        struct KeyTaken: Error {}
        do {
            return try write(kind, objects, KeyTaken())
        } catch is KeyTaken {
            return false
        }
    }

    private func write(_ kind: String, _ objects: [Object], _ taken: some Error) throws -> Bool {
        try db.write { db in
            for o in objects {
                if let other = try String.fetchOne(db, sql: "SELECT id FROM objects WHERE kind = ? AND key = ?", arguments: [kind, o.key]), other != o.id {
                    throw taken
                }
                try db.execute(sql: """
                    INSERT INTO objects (kind, id, key, parent, json) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(kind, id) DO UPDATE SET key = excluded.key, parent = excluded.parent, json = excluded.json
                    """, arguments: [kind, o.id, o.key, o.parent, ControlStore.text(o.json)])
            }
            return true
        }
    }

    public func object(_ kind: String, key: String) throws -> Object? {
        try db.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM objects WHERE kind = ? AND key = ?", arguments: [kind, key]).map(ControlStore.object)
        }
    }

    public func object(_ kind: String, id: String) throws -> Object? {
        try db.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM objects WHERE kind = ? AND id = ?", arguments: [kind, id]).map(ControlStore.object)
        }
    }

    /// Objects of a kind (those of one parent when given), in insertion order.
    public func objects(_ kind: String, parent: String? = nil) throws -> [Object] {
        try db.read { db in
            if let parent {
                return try Row.fetchAll(db, sql: "SELECT * FROM objects WHERE kind = ? AND parent = ? ORDER BY rowid", arguments: [kind, parent]).map(ControlStore.object)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM objects WHERE kind = ? ORDER BY rowid", arguments: [kind]).map(ControlStore.object)
        }
    }

    /// Deletes objects by id, and the objects of `childKind` whose parent is one of their keys.
    public func delete(_ kind: String, ids: [String], childKind: String? = nil) throws {
        try db.write { db in
            for id in ids {
                if let childKind, let key = try String.fetchOne(db, sql: "SELECT key FROM objects WHERE kind = ? AND id = ?", arguments: [kind, id]) {
                    try db.execute(sql: "DELETE FROM objects WHERE kind = ? AND parent = ?", arguments: [childKind, key])
                }
                try db.execute(sql: "DELETE FROM objects WHERE kind = ? AND id = ?", arguments: [kind, id])
            }
        }
    }

    static func text(_ o: JSONObject) -> String { String(decoding: JSONWriter().encode(.object(o)), as: UTF8.self) }
    static func object(_ s: String) -> JSONObject { (try? JSONParser().parse(Array(s.utf8)))?.objectValue ?? JSONObject() }

    // MARK: rules

    /// Every rule, in creation order.
    public func rules() throws -> [Rule] {
        try db.read { db in
            try String.fetchAll(db, sql: "SELECT json FROM rules ORDER BY rowid").map { Rule(json: ControlStore.object($0)) }
        }
    }

    public func rule(id: String) throws -> Rule? {
        try db.read { db in
            try String.fetchOne(db, sql: "SELECT json FROM rules WHERE id = ?", arguments: [id]).map { Rule(json: ControlStore.object($0)) }
        }
    }

    public func rule(ruleId: String) throws -> Rule? {
        try db.read { db in
            try String.fetchOne(db, sql: "SELECT json FROM rules WHERE rule_id = ?", arguments: [ruleId]).map { Rule(json: ControlStore.object($0)) }
        }
    }

    /// Inserts new rules and replaces changed ones (by `id`) in one transaction. A rule that is
    /// (re)enabled runs at once: its schedule restarts at `now`, from its lookback.
    public func save(_ rules: [Rule], now: Int64) throws {
        try db.write { db in
            for rule in rules {
                let id = rule.json["id"]?.stringValue ?? ""
                let wasEnabled = try String.fetchOne(db, sql: "SELECT json FROM rules WHERE id = ?", arguments: [id])
                    .map { Rule(json: ControlStore.object($0)).enabled }
                try db.execute(sql: """
                    INSERT INTO rules (id, rule_id, json) VALUES (?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET rule_id = excluded.rule_id, json = excluded.json
                    """, arguments: [id, rule.ruleId, ControlStore.text(rule.json)])
                if rule.enabled && wasEnabled != true {
                    // Enabled again: a fresh start (Kibana reports no gap for the time it was off).
                    try db.execute(sql: """
                        INSERT INTO rule_state (id, next_run) VALUES (?, ?)
                        ON CONFLICT(id) DO UPDATE SET next_run = excluded.next_run, covered_to = NULL
                        """, arguments: [id, now])
                }
            }
        }
    }

    /// Deletes rules by `id` with their state and history.
    public func delete(ids: [String]) throws {
        try db.write { db in
            for id in ids {
                try db.execute(sql: "DELETE FROM rule_runs WHERE id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM rule_state WHERE id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM rules WHERE id = ?", arguments: [id])
            }
        }
    }

    // MARK: schedule

    /// Where a rule's schedule stands.
    public struct State: Sendable {
        /// The end of the last window searched (events before it have been looked at).
        public var coveredTo: Int64?
        /// When the rule runs next.
        public var nextRun: Int64
        /// The last execution, as `execution_summary.last_execution`.
        public var lastSummary: JSONObject?
    }

    public func state(id: String) throws -> State? {
        try db.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT covered_to, next_run, last_summary FROM rule_state WHERE id = ?", arguments: [id]) else { return nil }
            let summary: String? = row["last_summary"]
            return State(coveredTo: row["covered_to"], nextRun: row["next_run"], lastSummary: summary.map(ControlStore.object))
        }
    }

    /// The enabled rules whose next run is due at `now`, soonest first.
    public func due(now: Int64) throws -> [(Rule, State)] {
        try db.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT r.json, s.covered_to, s.next_run, s.last_summary FROM rules r JOIN rule_state s ON s.id = r.id
                WHERE s.next_run <= ? ORDER BY s.next_run, r.rowid
                """, arguments: [now])
            return rows.compactMap { row in
                let rule = Rule(json: ControlStore.object(row["json"]))
                guard rule.enabled else { return nil }
                let summary: String? = row["last_summary"]
                return (rule, State(coveredTo: row["covered_to"], nextRun: row["next_run"], lastSummary: summary.map(ControlStore.object)))
            }
        }
    }

    /// Records one execution: the new schedule state and the run in the history (the newest
    /// `keep` runs per rule are kept).
    public func finish(id: String, state: State, run: JSONObject, started: Int64, keep: Int = 100) throws {
        try db.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM rules WHERE id = ?", arguments: [id]) != nil else { return }
            try db.execute(sql: """
                INSERT INTO rule_state (id, covered_to, next_run, last_summary) VALUES (?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET covered_to = excluded.covered_to, next_run = excluded.next_run, last_summary = excluded.last_summary
                """, arguments: [id, state.coveredTo, state.nextRun, state.lastSummary.map(ControlStore.text)])
            try db.execute(sql: "INSERT INTO rule_runs (id, started, json) VALUES (?, ?, ?)", arguments: [id, started, ControlStore.text(run)])
            try db.execute(sql: """
                DELETE FROM rule_runs WHERE id = ? AND seq NOT IN (SELECT seq FROM rule_runs WHERE id = ? ORDER BY seq DESC LIMIT ?)
                """, arguments: [id, id, keep])
        }
    }

    /// A rule's executions, newest first.
    public func runs(id: String, limit: Int = 100) throws -> [JSONObject] {
        try db.read { db in
            try String.fetchAll(db, sql: "SELECT json FROM rule_runs WHERE id = ? ORDER BY seq DESC LIMIT ?", arguments: [id, limit]).map(ControlStore.object)
        }
    }
}
