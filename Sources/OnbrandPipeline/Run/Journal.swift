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
