public import Foundation
import GeminiKit
import OnbrandInputs

/// Totals for a plan, and what a reader needs to act on it.
public struct PlanSummary: Sendable, Codable {
    public struct Group: Sendable, Codable {
        public var templateID: String
        public var locale: String
        public var units = 0
        public var failed = 0
        public var inputTokens = 0
        public var costUSD = 0.0
    }

    public var units = 0
    public var planned = 0
    public var failed = 0
    public var inputTokens = 0
    public var inputImages = 0
    public var outputImageTokens = 0
    public var outputTextTokens = 0
    public var costUSD = 0.0
    public var batchCostUSD = 0.0
    /// Units whose estimate is near the limit: the run confirms them with `countTokens`.
    public var needsExactCount = 0
    public var trimmedSections = 0
    public var droppedSections = 0
    public var isExact = false
    public var groups: [Group] = []
    /// Failure reasons and how many units each stopped.
    public var failures: [String: Int] = [:]
    public var requestsFile: String?
    public var reportFile: String?
}

/// Writes a plan as it is made: `requests.jsonl` (one `generateContent` body per unit, with the
/// unit and model) and `budget.jsonl` (one budget report per unit), each written to a temporary
/// name and renamed when complete, so a reader never sees half a plan.
public final class PlanWriter {
    private let directory: URL
    private let requests: FileHandle
    private let reports: FileHandle
    private let encoder: JSONEncoder
    /// Lines are gathered and written a megabyte at a time: one write per line cost an eighth of planning.
    private var pendingRequests: [UInt8] = []
    private var pendingReports: [UInt8] = []
    private static let flushSize = 1 << 20
    private static let directWriteSize = 32 << 10
    public private(set) var summary = PlanSummary()

    private var requestsURL: URL { directory.appendingPathComponent("requests.jsonl") }
    private var reportsURL: URL { directory.appendingPathComponent("budget.jsonl") }

    public init(directory: URL) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for url in [directory.appendingPathComponent("requests.jsonl.partial"), directory.appendingPathComponent("budget.jsonl.partial")] {
            _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        }
        requests = try FileHandle(forWritingTo: directory.appendingPathComponent("requests.jsonl.partial"))
        reports = try FileHandle(forWritingTo: directory.appendingPathComponent("budget.jsonl.partial"))
        // Sorted keys: the same plan is byte-identical on every run.
        encoder = WireCoding.encoder()
    }

    struct RequestLine: Encodable {
        var unit: WorkUnit
        var model: String
        var request: GenerateContentRequest
    }

    struct ReportLine: Encodable {
        var unit: WorkUnit
        var model: String
        var failure: String?
        var budget: BudgetReport
    }

    /// The lines of one or more units, in order, encoded; any thread may make them, and hand
    /// them to the writer, which writes them as they are. Unchecked `Sendable`: one thread fills
    /// them, then hands them over whole; no two threads ever touch them at once.
    public final class EncodedLines: @unchecked Sendable {
        /// Request lines (none for a unit that failed). Unchecked exclusivity: one thread at a
        /// time, as above, and two run-time checks a unit otherwise.
        @exclusivity(unchecked) var requests: ByteBuffer
        @exclusivity(unchecked) var reports: ByteBuffer
        /// Bytes of both files' lines.
        public var byteCount: Int { requests.count + reports.count }

        init(reservingForUnits units: Int = 1) {
            requests = ByteBuffer(capacity: units * (6 << 10))
            reports = ByteBuffer(capacity: units * (3 << 9))
        }

        /// Appends a plan's lines.
        func append(_ plan: UnitPlan, memo: EncodingMemo?) {
            if let request = plan.request {
                PlanLineWriter.appendRequestLine(to: &requests, unit: plan.unit, model: plan.model, request: request, memo: memo)
            }
            PlanLineWriter.appendReportLine(to: &reports, unit: plan.unit, model: plan.model, failure: plan.failure, budget: plan.report, memo: memo)
        }
    }

    /// Encodes a plan's lines without touching the writer's state (any thread may).
    public static func encode(_ plan: UnitPlan) -> EncodedLines {
        let lines = EncodedLines()
        lines.append(plan, memo: nil)
        return lines
    }

    /// Encodes plans one after another, as a planning worker does (what repeats written once).
    public static func encode(_ plans: some Sequence<UnitPlan>) -> EncodedLines {
        let memo = EncodingMemo()
        // Room reserved up front, as a worker's chunk has: growing as it goes, the buffers would be
        // copied over and over, and `plan-stages` would count that as encoding.
        let lines = EncodedLines(reservingForUnits: plans.underestimatedCount)
        for plan in plans { lines.append(plan, memo: memo) }
        return lines
    }

    public func write(_ plan: UnitPlan) throws {
        try write([plan], lines: Self.encode(plan))
    }

    /// Adds plans whose lines were encoded already, `lines` holding theirs in the same order
    /// (plans come in catalog order). After it throws, the writer is spent: its summary may count
    /// units whose lines were not written, and ``finish()`` must not be called.
    public func write(_ plans: [UnitPlan], lines: EncodedLines) throws {
        // Counted in place, through a pointer: lent from the array, or from its buffer, each plan
        // was copied (every string in it retained). The summary is taken out while counting: as
        // the class's property, every change to it paid a run-time exclusivity check.
        var counted = exchange(&summary, with: PlanSummary())
        plans.withUnsafeBufferPointer { plans in
            for index in plans.indices { Self.count(plans.baseAddress! + index, into: &counted) }
        }
        summary = counted
        // A worker's chunk of lines (about 100 KB) goes as it is: gathering it cost a copy of the
        // whole plan; only small batches, one unit at a time, are gathered.
        if lines.byteCount < Self.directWriteSize, pendingRequests.count + pendingReports.count + lines.byteCount < Self.flushSize {
            pendingRequests.append(contentsOf: lines.requests.written)
            pendingReports.append(contentsOf: lines.reports.written)
            return
        }
        try flush()
        try Self.write(lines.requests.written, to: requests)
        try Self.write(lines.reports.written, to: reports)
    }

    /// Adds a plan to the summary.
    private static func count(_ plan: UnsafePointer<UnitPlan>, into summary: inout PlanSummary) {
        summary.units += 1
        summary.isExact = plan.pointee.report.isExact
        // Few groups (templates × locales), whose strings are the units' own: a search beats hashing a key.
        let index: Int
        if let known = summary.groups.firstIndex(where: { $0.templateID == plan.pointee.unit.templateID && $0.locale == plan.pointee.unit.locale }) {
            index = known
        } else {
            index = summary.groups.count
            summary.groups.append(PlanSummary.Group(templateID: plan.pointee.unit.templateID, locale: plan.pointee.unit.locale))
        }
        summary.groups[index].units += 1
        if plan.pointee.failure == nil {
            summary.planned += 1
            summary.inputTokens += plan.pointee.report.inputTokens
            summary.inputImages += plan.pointee.report.inputImages
            summary.outputImageTokens += plan.pointee.report.outputImageTokens
            summary.outputTextTokens += plan.pointee.report.outputTextTokens
            summary.costUSD += plan.pointee.report.costUSD
            summary.batchCostUSD += plan.pointee.report.batchCostUSD
            summary.groups[index].inputTokens += plan.pointee.report.inputTokens
            summary.groups[index].costUSD += plan.pointee.report.costUSD
            if plan.pointee.report.needsExactCount { summary.needsExactCount += 1 }
        } else {
            summary.failed += 1
            summary.groups[index].failed += 1
            summary.failures[plan.pointee.failure ?? "unknown", default: 0] += 1
        }
        plan.pointee.report.sections.withUnsafeBufferPointer { sections in
            for index in sections.indices {
                if sections[index].outcome == .trimmed { summary.trimmedSections += 1 }
                if sections[index].outcome == .dropped { summary.droppedSections += 1 }
            }
        }
    }

    private func flush() throws {
        guard !pendingRequests.isEmpty || !pendingReports.isEmpty else { return }
        try pendingRequests.withUnsafeBufferPointer { try Self.write($0, to: requests) }
        try pendingReports.withUnsafeBufferPointer { try Self.write($0, to: reports) }
        pendingRequests.removeAll(keepingCapacity: true)
        pendingReports.removeAll(keepingCapacity: true)
    }

    /// Writes the bytes where they are (`FileHandle` wants `Data`, which would be one more copy).
    private static func write(_ bytes: UnsafeBufferPointer<UInt8>, to handle: FileHandle) throws {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let written = Foundation.write(handle.fileDescriptor, base + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "writing the plan failed: \(String(cString: strerror(errno)))"])
            }
            offset += written
        }
    }

    /// Closes the files and moves them to their final names.
    public func finish() throws -> PlanSummary {
        try flush()
        try requests.close()
        try reports.close()
        for (partial, final) in [("requests.jsonl.partial", requestsURL), ("budget.jsonl.partial", reportsURL)] {
            _ = try? FileManager.default.removeItem(at: final)
            try FileManager.default.moveItem(at: directory.appendingPathComponent(partial), to: final)
        }
        summary.requestsFile = requestsURL.path
        summary.reportFile = reportsURL.path
        let data = try encoder.encode(summary)
        try data.write(to: directory.appendingPathComponent("summary.json"), options: .atomic)
        return summary
    }
}
