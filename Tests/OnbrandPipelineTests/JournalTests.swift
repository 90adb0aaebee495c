import Foundation
@testable import OnbrandPipeline
import OnbrandTestSupport
import Testing

@Suite struct JournalTests {
    /// A journal written before batch units kept their token check opens, gains the column, and
    /// keeps its pending jobs.
    @Test func aJournalFromBeforeTokenChecksIsUpgradedInPlace() throws {
        try TestFiles.withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("journal.sqlite").path
            let oldSchema = """
                import sqlite3, sys
                db = sqlite3.connect(sys.argv[1])
                db.execute("CREATE TABLE batch (name TEXT PRIMARY KEY, model TEXT NOT NULL, createdAt DATETIME NOT NULL, units INTEGER NOT NULL)")
                db.execute("CREATE TABLE batched_unit (key TEXT PRIMARY KEY, batch TEXT NOT NULL, fingerprint TEXT NOT NULL)")
                db.execute("INSERT INTO batch VALUES ('batches/old', 'm', '2026-11-20 10:00:00.000', 1)")
                db.execute("INSERT INTO batched_unit VALUES ('p|t|en-US', 'batches/old', 'f1')")
                db.commit()
                """
            let made = try CommandRunner.runTool("/usr/bin/env", ["python3", "-c", oldSchema, path])
            try #require(made.status == 0, "\(made.output)")
            let journal = try Journal(path: path)
            #expect(try journal.units(inBatch: "batches/old")["p|t|en-US"]?.fingerprint == "f1")
            let check = TokenCheck(
                estimatedInputTokens: 100, countedInputTokens: 120, inputLimit: 200, outputReserve: 50, replanned: true, packedToLimit: 170)
            try journal.recordBatch(
                .init(name: "batches/new", model: "m", createdAt: Date(), units: 1), units: [(key: "q|t|en-US", fingerprint: "f2", tokenCheck: check)])
            #expect(try journal.units(inBatch: "batches/new")["q|t|en-US"]?.tokenCheck == check)
        }
    }
}
