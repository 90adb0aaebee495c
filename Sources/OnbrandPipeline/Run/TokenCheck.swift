public import Foundation
import GeminiKit
import OnbrandInputs

/// What the API's `countTokens` said about a unit whose estimate landed near the input limit.
///
/// Estimates err high (the worst corpus sample is 1.9 % under), so most units never need this;
/// near the limit the run asks the API before paying for a call that would be refused.
public struct TokenCheck: Sendable, Codable, Hashable {
    /// Onbrand's estimate for the request as first planned.
    public var estimatedInputTokens: Int
    /// The API's count for the request sent.
    public var countedInputTokens: Int
    public var inputLimit: Int
    public var outputReserve: Int
    /// Planned again with less optional context, because the first count left no room for the answer.
    public var replanned: Bool
    /// The limit the request sent was packed to, when it was planned again.
    public var packedToLimit: Int?
}

extension Runner {
    enum FitCheck {
        case send(UnitPlan, GenerateContentRequest)
        /// Even the required sections do not fit by the API's count.
        case overLimit(String)
    }

    /// Confirms with `countTokens` that a unit near the limit fits, planning it again tighter when
    /// it does not (optional sections give way as they do for the estimate). A unit far from the
    /// limit, a provider without `countTokens`, or a count that fails goes as planned.
    func confirmFit(
        _ plan: UnitPlan, request: GenerateContentRequest, template: PromptTemplate, product: Product, planner: Planner,
        client: any ImageGenerating
    ) async -> FitCheck {
        guard plan.report.needsExactCount, let counter = client as? any TokenCounting,
            var counted = try? await counter.countTokens(model: plan.model, request: request)
        else { return .send(plan, request) }
        let limit = plan.report.inputLimit
        let reserve = plan.report.outputReserve
        let room = limit - reserve
        var check = TokenCheck(
            estimatedInputTokens: plan.report.inputTokens, countedInputTokens: counted, inputLimit: limit, outputReserve: reserve, replanned: false,
            packedToLimit: nil)
        var current = plan
        if counted <= room {
            current.tokenCheck = check
            return .send(current, request)
        }
        // Pack to a limit shrunk by the share the estimate fell short, and count again (twice at most).
        for _ in 0..<2 {
            let shortfall = Double(counted) / Double(max(current.report.inputTokens, 1))
            let packingLimit = reserve + Int((Double(room) / shortfall * 0.99).rounded(.down))
            var again = planner.plan(template, product: product, locale: current.unit.locale, inputLimit: packingLimit)
            guard let tighter = again.request else { break }
            guard let recount = try? await counter.countTokens(model: again.model, request: tighter) else {
                // The count failed, not the fit: send the tighter request, which is smaller than the one counted.
                again.report.inputLimit = limit
                check.replanned = true
                check.packedToLimit = packingLimit
                again.tokenCheck = check
                return .send(again, tighter)
            }
            counted = recount
            current = again
            if counted <= room {
                again.report.inputLimit = limit
                check.countedInputTokens = counted
                check.replanned = true
                check.packedToLimit = packingLimit
                again.tokenCheck = check
                return .send(again, tighter)
            }
        }
        return .overLimit(
            "countTokens says \(counted) input tokens where Onbrand estimated \(plan.report.inputTokens); the limit of \(limit) "
                + "less \(reserve) kept for the answer leaves \(room), and dropping optional sections did not make it fit")
    }
}
