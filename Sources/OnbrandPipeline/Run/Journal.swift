public import Foundation
import GRDB

/// The run journal: one row per unit in SQLite (`out/<brand>/.onbrand/journal.sqlite`), so a rerun
/// skips what already succeeded with the same fingerprint and a crashed run resumes. A unit is
/// marked `succeeded` only after its files are on disk.
public final class Journal: Sendable {
    public enum State: String, Sendable, Codable {
        case running, succeeded, failed
    }

    struct Record: Sendable, Codable, FetchableRecord, PersistableRecord {
        static let databaseTableName = "unit"
        var key: String
        var fingerprint: String
        var state: String
        var attempts: Int
        var outcome: String?
        var failureKind: String?
        var costUSD: Double
        /// JSON array of output paths, relative to the output folder.
        var outputs: String
        var startedAt: Date?
        var finishedAt: Date?
        var runID: String
    }

    /// One unit's row, for reports and tests.
    public struct Entry: Sendable, Hashable {
        public var key: String
        public var fingerprint: String
        public var state: State?
        public var attempts: Int
        public var outcome: String?
        public var failureKind: String?
        public var costUSD: Double
        public var outputs: [String]
    }

    /// A Batch API job whose results have not been collected yet.
    struct BatchJob: Sendable, Codable, Hashable, FetchableRecord, PersistableRecord {
        static let databaseTableName = "batch"
        var name: String
        var model: String
        var createdAt: Date
        var units: Int
    }

    /// A unit sent in a batch: its fingerprint, so a changed unit is sent again rather than waited for.
    struct BatchedUnit: Sendable, Codable, FetchableRecord, PersistableRecord {
        static let databaseTableName = "batched_unit"
        var key: String
        var batch: String
        var fingerprint: String
        /// JSON of the unit's ``TokenCheck`` when `countTokens` was asked before it was sent.
        var tokenCheck: String?
    }

    /// A unit waiting in a job: its fingerprint, and what `countTokens` said before it was sent.
    public struct Batched: Sendable {
        public var fingerprint: String
        public var tokenCheck: TokenCheck?
    }

    private let queue: DatabaseQueue

    public init(path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        queue = try DatabaseQueue(path: path, configuration: configuration)
        // WAL: a unit's row is durable once written, and a crash cannot corrupt the journal.
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
        try queue.write { db in
            try db.create(table: "unit", ifNotExists: true) { table in
                table.primaryKey("key", .text)
                table.column("fingerprint", .text).notNull()
                table.column("state", .text).notNull()
                table.column("attempts", .integer).notNull().defaults(to: 0)
                table.column("outcome", .text)
                table.column("failureKind", .text)
                table.column("costUSD", .double).notNull().defaults(to: 0)
                table.column("outputs", .text).notNull().defaults(to: "[]")
                table.column("startedAt", .datetime)
                table.column("finishedAt", .datetime)
                table.column("runID", .text).notNull()
            }
            try db.create(table: "batch", ifNotExists: true) { table in
                table.primaryKey("name", .text)
                table.column("model", .text).notNull()
                table.column("createdAt", .datetime).notNull()
                table.column("units", .integer).notNull()
            }
            try db.create(table: "batched_unit", ifNotExists: true) { table in
                table.primaryKey("key", .text)
                table.column("batch", .text).notNull().indexed()
                table.column("fingerprint", .text).notNull()
                table.column("tokenCheck", .text)
            }
            // Journals from before the column existed.
            if try !db.columns(in: "batched_unit").contains(where: { $0.name == "tokenCheck" }) {
                try db.alter(table: "batched_unit") { $0.add(column: "tokenCheck", .text) }
            }
        }
    }

    // MARK: - Batch jobs

    /// Records a job and its units in one transaction, right after the API created it: a crash
    /// after this line loses nothing, and the next run collects the job instead of paying again.
    func recordBatch(_ job: BatchJob, units: [(key: String, fingerprint: String, tokenCheck: TokenCheck?)]) throws {
        try queue.write { db in
            try job.save(db)
            for unit in units {
                let check = unit.tokenCheck.flatMap { try? JSONEncoder().encode($0) }.map { String(decoding: $0, as: UTF8.self) }
                try BatchedUnit(key: unit.key, batch: job.name, fingerprint: unit.fingerprint, tokenCheck: check).save(db)
            }
        }
    }

    func pendingBatches() throws -> [BatchJob] {
        try queue.read { try BatchJob.order(Column("createdAt")).fetchAll($0) }
    }

    /// Whether the unit, with this fingerprint, waits in a job not yet collected.
    public func isInPendingBatch(_ key: String, fingerprint: String) throws -> Bool {
        try queue.read { db in
            guard let unit = try BatchedUnit.fetchOne(db, key: key), unit.fingerprint == fingerprint else { return false }
            return try BatchJob.fetchOne(db, key: unit.batch) != nil
        }
    }

    /// The units a job holds, by key.
    public func units(inBatch name: String) throws -> [String: Batched] {
        try queue.read { db in
            try BatchedUnit.filter(Column("batch") == name).fetchAll(db).reduce(into: [:]) { units, unit in
                let check = unit.tokenCheck.flatMap { try? JSONDecoder().decode(TokenCheck.self, from: Data($0.utf8)) }
                units[unit.key] = Batched(fingerprint: unit.fingerprint, tokenCheck: check)
            }
        }
    }

    /// Forgets a job once its results are collected (or it ended without any).
    public func forgetBatch(_ name: String) throws {
        try queue.write { db in
            _ = try BatchedUnit.filter(Column("batch") == name).deleteAll(db)
            _ = try BatchJob.deleteOne(db, key: name)
        }
    }

    func record(_ key: String) throws -> Record? {
        try queue.read { try Record.fetchOne($0, key: key) }
    }

    /// Whether the unit already succeeded with this fingerprint and its files are still there.
    public func isDone(_ key: String, fingerprint: String, outputRoot: URL) throws -> Bool {
        guard let record = try record(key), record.state == State.succeeded.rawValue, record.fingerprint == fingerprint else { return false }
        let outputs = (try? JSONDecoder().decode([String].self, from: Data(record.outputs.utf8))) ?? []
        return !outputs.isEmpty && outputs.allSatisfy { FileManager.default.fileExists(atPath: outputRoot.appendingPathComponent($0).path) }
    }

    public func markRunning(_ key: String, fingerprint: String, runID: String) throws {
        try queue.write { db in
            var record = try Record.fetchOne(db, key: key)
                ?? Record(key: key, fingerprint: fingerprint, state: State.running.rawValue, attempts: 0, outcome: nil, failureKind: nil,
                    costUSD: 0, outputs: "[]", startedAt: nil, finishedAt: nil, runID: runID)
            record.fingerprint = fingerprint
            record.state = State.running.rawValue
            record.attempts += 1
            record.startedAt = Date()
            record.finishedAt = nil
            record.runID = runID
            try record.save(db)
        }
    }

    public func finish(_ key: String, state: State, outcome: String?, failureKind: String?, costUSD: Double, outputs: [String]) throws {
        let encoded = String(decoding: (try? JSONEncoder().encode(outputs)) ?? Data("[]".utf8), as: UTF8.self)
        try queue.write { db in
            guard var record = try Record.fetchOne(db, key: key) else { return }
            record.state = state.rawValue
            record.outcome = outcome
            record.failureKind = failureKind
            record.costUSD = costUSD
            record.outputs = encoded
            record.finishedAt = Date()
            try record.save(db)
        }
    }

    public func entries() throws -> [Entry] {
        try queue.read { try Record.fetchAll($0) }.map { record in
            Entry(
                key: record.key, fingerprint: record.fingerprint, state: State(rawValue: record.state), attempts: record.attempts,
                outcome: record.outcome, failureKind: record.failureKind, costUSD: record.costUSD,
                outputs: (try? JSONDecoder().decode([String].self, from: Data(record.outputs.utf8))) ?? [])
        }
    }
}
