public import Foundation
import Synchronization
public import OnbrandInputs
import GeminiKit

/// Plans a catalog on every core: products are read in order, units are planned and encoded in
/// batches by `workers` threads, and written in catalog order, so the plan is the same bytes as a
/// one-thread plan.
public enum ParallelPlanning {
    public struct Unit: Sendable {
        public var template: PromptTemplate
        public var product: Product
        public var locale: String

        public init(template: PromptTemplate, product: Product, locale: String) {
            self.template = template
            self.product = product
            self.locale = locale
        }
    }

    /// Units planned per batch: enough to keep the workers busy, few enough to keep memory flat.
    public static let batchSize = 512
    /// Units a worker takes at a time, and encodes into one pair of buffers.
    static let chunkSize = 16

    /// Plans every unit `next` yields (nil at the end) and writes it.
    ///
    /// Three stages overlap: the calling thread reads batches (`next` is only ever called there,
    /// in order) up to ``batchesInFlight`` ahead; the workers plan one batch after another; a
    /// writer writes them in catalog order.
    /// - Parameter progress: Told the number of units written so far, after each batch (on the writer's thread).
    public static func run(
        planner: Planner, writer: PlanWriter, workers: Int = ProcessInfo.processInfo.activeProcessorCount,
        progress: (@Sendable (Int) -> Void)? = nil, next: () throws -> Unit?
    ) throws {
        let output = Stage(writer)
        let workers = max(workers, 1)
        let planning = DispatchQueue(label: "onbrand.plan.planning")
        let writing = DispatchQueue(label: "onbrand.plan.writing")
        let inFlight = DispatchSemaphore(value: batchesInFlight)
        let writeError = FirstError()
        defer {
            // Whatever happens here, nothing is left running with the writer.
            planning.sync {}
            writing.sync {}
        }
        while true {
            inFlight.wait()
            if let error = writeError.value {
                // Give the slot back: a semaphore freed below its starting value stops the process.
                inFlight.signal()
                throw error
            }
            var batch: Batch
            do { batch = try readBatch(next) } catch {
                inFlight.signal()
                throw error
            }
            if batch.units.isEmpty {
                inFlight.signal()
                break
            }
            // Handed over, not shared: the workers read the units in the batch's own array.
            let units = PendingUnits(batch.units)
            batch.units = []
            planning.async {
                let planned = plan(units, planner: planner, workers: workers)
                writing.async {
                    defer { inFlight.signal() }
                    guard writeError.value == nil else { return }
                    do {
                        for chunk in planned { try output.value.write(chunk.plans, lines: chunk.lines) }
                        progress?(output.value.summary.units)
                    } catch {
                        writeError.record(error)
                    }
                }
            }
            if batch.isLast { break }
        }
        planning.sync {}
        writing.sync {}
        if let error = writeError.value { throw error }
    }

    /// Batches read but not yet written: enough that the workers never wait for the reader.
    static let batchesInFlight = 3

    private struct Batch {
        /// Read in order; handed to the workers as ``PendingUnits`` (see ``plan(_:planner:workers:)``).
        var units: [Unit]
        /// `next` said nil: nothing follows.
        var isLast: Bool
    }

    private static func readBatch(_ next: () throws -> Unit?) throws -> Batch {
        var units: [Unit] = []
        units.reserveCapacity(batchSize)
        while units.count < batchSize {
            guard let unit = try next() else { return Batch(units: units, isLast: true) }
            units.append(unit)
        }
        return Batch(units: units, isLast: false)
    }

    /// Plans and encodes a batch on `workers` threads, a chunk at a time; chunks in the batch's order.
    ///
    /// Each unit is lent to the planner where it lies in `pending` (a copy retained every string of
    /// its product and template, then released them, and the template's by both cores at once), and
    /// freed with the batch: freed on the worker, among the worker's own allocations, it was slower.
    private static func plan(_ pending: PendingUnits, planner: Planner, workers: Int) -> [(plans: [UnitPlan], lines: PlanWriter.EncodedLines)] {
        let unitCount = pending.units.count
        let chunks = (unitCount + chunkSize - 1) / chunkSize
        var results = [(plans: [UnitPlan], lines: PlanWriter.EncodedLines)?](repeating: nil, count: chunks)
        pending.units.withUnsafeMutableBufferPointer { units in
            results.withUnsafeMutableBufferPointer { slots in
                let (units, slots) = (UncheckedBuffer(units), UncheckedBuffer(slots))
                // Workers take the next chunk as they finish, so one that the reader or the writer
                // kept off its core does not leave the other waiting at the end of the batch.
                let next = Atomic<Int>(0)
                DispatchQueue.concurrentPerform(iterations: workers) { _ in
                    let memo = EncodingMemo()
                    while true {
                        let chunk = next.wrappingAdd(1, ordering: .relaxed).oldValue
                        guard chunk < chunks else { break }
                        let indices = chunk * chunkSize..<min((chunk + 1) * chunkSize, unitCount)
                        var plans: [UnitPlan] = []
                        plans.reserveCapacity(indices.count)
                        // One pair of buffers for the chunk's lines: the writer takes them as they are.
                        let lines = PlanWriter.EncodedLines(reservingForUnits: indices.count)
                        for index in indices {
                            // Moved out of its slot for the call, and back: read in place, or out of
                            // an optional, the unit was copied for the call (every string of it
                            // retained, then released).
                            let slot = units.buffer.baseAddress! + index
                            let unit = slot.move()
                            let plan = planner.plan(unit.template, product: unit.product, locale: unit.locale)
                            slot.initialize(to: consume unit)
                            lines.append(plan, memo: memo)
                            plans.append(forCounting(plan))
                        }
                        slots.buffer[chunk] = (plans, lines)
                    }
                }
            }
        }
        return results.map { $0! }
    }
}

extension ParallelPlanning {
    /// What the writer needs of a plan that is written already: it only counts budgets. The rest
    /// is freed here, by the thread that made it, rather than on the writer's (malloc's slow path).
    /// Made afresh: the plan itself, cleared and appended, was copied whole (its request too).
    fileprivate static func forCounting(_ plan: borrowing UnitPlan) -> UnitPlan {
        UnitPlan(unit: plan.unit, model: plan.model, request: nil, report: plan.report, failure: plan.failure, altTextFallback: nil)
    }
}

/// Something only one stage of the pipeline touches at a time (the writer):
/// the loop in ``ParallelPlanning/run(planner:writer:workers:next:)`` waits for a stage before
/// handing it on.
private final class Stage<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A batch's units on their way to the workers, each read only by the one that plans it.
private final class PendingUnits: @unchecked Sendable {
    var units: [ParallelPlanning.Unit]
    init(_ units: [ParallelPlanning.Unit]) { self.units = units }
}

/// The first error the writer met; the reader stops at it.
private final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private var error: (any Error)?

    var value: (any Error)? {
        lock.lock()
        defer { lock.unlock() }
        return error
    }

    func record(_ error: any Error) {
        lock.lock()
        defer { lock.unlock() }
        if self.error == nil { self.error = error }
    }
}

/// Each worker writes only its own indices of the buffer.
private struct UncheckedBuffer<Element>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Element>
    init(_ buffer: UnsafeMutableBufferPointer<Element>) { self.buffer = buffer }
}
