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
    public static func run(
        planner: Planner, writer: PlanWriter, workers: Int = ProcessInfo.processInfo.activeProcessorCount,
        next: () throws -> Unit?
    ) throws {
        let workers = max(workers, 1)
        var batch: [Unit] = []
        batch.reserveCapacity(batchSize)
        var finished = false
        while !finished {
            batch.removeAll(keepingCapacity: true)
            while batch.count < batchSize, let unit = try next() { batch.append(unit) }
            finished = batch.count < batchSize
            guard !batch.isEmpty else { break }
            var results = [Result<(UnitPlan, PlanWriter.EncodedLines), any Error>?](repeating: nil, count: batch.count)
            let units = batch
            results.withUnsafeMutableBufferPointer { slots in
                let slots = UncheckedBuffer(slots)
                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                    for index in stride(from: worker, to: units.count, by: workers) {
                        let unit = units[index]
                        let plan = planner.plan(unit.template, product: unit.product, locale: unit.locale)
                        slots.buffer[index] = .success((plan, PlanWriter.encode(plan)))
                    }
                }
            }
            for result in results {
                let (plan, lines) = try result!.get()
                try writer.write(plan, lines: lines)
            }
        }
    }
}

/// Each worker writes only its own indices of the buffer.
private struct UncheckedBuffer<Element>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Element>
    init(_ buffer: UnsafeMutableBufferPointer<Element>) { self.buffer = buffer }
}
