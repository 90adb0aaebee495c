import Crypto
import Foundation
public import GeminiKit
public import OnbrandInputs

/// What decides a unit's output, hashed: the brand guide's content, the template's content and
/// version, every field of the product, the model and the exact request body (which also holds the
/// reference images and generation config). Change any of them and the unit is generated again;
/// change nothing and a rerun skips it.
public enum Fingerprint {
    /// Bumped when Onbrand changes how it interprets answers, so old results are redone.
    public static let pipelineVersion = "1"

    public static func of(
        model: String, template: PromptTemplate, brandDigest: String, product: Product, request: GenerateContentRequest
    ) -> String {
        var hasher = SHA256()
        hasher.update(data: Data("onbrand/\(pipelineVersion)\n\(model)\n\(brandDigest)\n".utf8))
        hasher.update(data: Data(templateContent(template).utf8))
        let encoder = WireCoding.encoder()
        hasher.update(data: (try? encoder.encode(product)) ?? Data())
        hasher.update(data: (try? encoder.encode(request)) ?? Data())
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// A digest of the whole brand guide, computed once per run.
    public static func digest(of brand: BrandGuide) -> String {
        let data = (try? WireCoding.encoder().encode(brand)) ?? Data()
        return SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    /// Everything a template says, in a fixed order.
    static func templateContent(_ template: PromptTemplate) -> String {
        var parts = [
            template.id, template.version, template.model ?? "", template.role ?? "", template.channel ?? "",
            template.output.responseModalities.map(\.rawValue).joined(separator: ","), template.output.aspectRatio.rawValue,
            template.output.imageSize.rawValue, "\(template.grounding.web),\(template.grounding.image)", template.prompt.source,
            template.altText.mode.rawValue, template.altText.instruction?.source ?? "", template.altText.fallback?.source ?? "",
        ]
        for section in template.sections {
            parts += [section.id, section.priority.rawValue, section.kind.rawValue, section.text?.source ?? ""]
        }
        return parts.joined(separator: "\u{1F}")
    }

    /// A short, stable hash of any text (file-name suffixes).
    public static func short(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).prefix(4).map { String(format: "%02x", $0) }.joined()
    }
}
