public import Foundation
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

    /// Plans every unit `next` yields (nil at the end) and writes it.
    ///
    /// Three stages overlap: while the workers plan one batch, the calling thread reads the next
    /// (`next` is only ever called there, in order) and the previous one is written.
    public static func run(
        planner: Planner, writer: PlanWriter, workers: Int = ProcessInfo.processInfo.activeProcessorCount,
        next: () throws -> Unit?
    ) throws {
        let output = Stage(writer)
        let workers = max(workers, 1)
        var batch = try readBatch(next)
        var writing: DispatchWorkItem?
        let writeError = Slot<(any Error)?>(nil)
        while !batch.units.isEmpty {
            let planning = DispatchGroup()
            let planned = Slot<[(UnitPlan, PlanWriter.EncodedLines)]>([])
            let units = batch.units
            DispatchQueue.global().async(group: planning) { planned.value = plan(units, planner: planner, workers: workers) }
            let following = batch.isLast ? Batch(units: [], isLast: true) : try readBatch(next)
            planning.wait()
            writing?.wait()
            if let error = writeError.value { throw error }
            let lines = planned.value
            let work = DispatchWorkItem {
                do {
                    for (plan, encoded) in lines { try output.value.write(plan, lines: encoded) }
                } catch {
                    writeError.value = error
                }
            }
            DispatchQueue.global().async(execute: work)
            writing = work
            batch = following
        }
        writing?.wait()
        if let error = writeError.value { throw error }
    }

    private struct Batch {
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

    /// Plans and encodes a batch on `workers` threads; results in the batch's order.
    private static func plan(_ units: [Unit], planner: Planner, workers: Int) -> [(UnitPlan, PlanWriter.EncodedLines)] {
        var results = [(UnitPlan, PlanWriter.EncodedLines)?](repeating: nil, count: units.count)
        results.withUnsafeMutableBufferPointer { slots in
            let slots = UncheckedBuffer(slots)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let strings = EscapedStrings()
                for index in stride(from: worker, to: units.count, by: workers) {
                    let plan = planner.plan(units[index].template, product: units[index].product, locale: units[index].locale)
                    slots.buffer[index] = (plan, PlanWriter.encode(plan, strings: strings))
                }
            }
        }
        return results.map { $0! }
    }
}

/// Something only one stage of the pipeline touches at a time (the writer):
/// the loop in ``ParallelPlanning/run(planner:writer:workers:next:)`` waits for a stage before
/// handing it on.
private final class Stage<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A result one stage leaves for the loop, read only after waiting for that stage.
private final class Slot<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

/// Each worker writes only its own indices of the buffer.
private struct UncheckedBuffer<Element>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Element>
    init(_ buffer: UnsafeMutableBufferPointer<Element>) { self.buffer = buffer }
}
