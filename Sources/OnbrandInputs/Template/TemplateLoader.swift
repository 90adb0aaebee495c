import Foundation
import OnbrandXML

/// Loads prompt templates from XML or JSON and checks every Mustache variable they use against
/// the context Onbrand renders them with, so a typo fails at `validate`, not mid-run.
public enum TemplateLoader {
    public struct Result: Sendable {
        public var template: PromptTemplate?
        public var diagnostics: [Diagnostic]
    }

    /// Loads a template file, collecting every problem.
    public static func load(_ path: String) -> Result {
        guard FileManager.default.fileExists(atPath: path) else {
            return Result(
                template: nil,
                diagnostics: [.error("template not found", at: SourceLocation(file: path), hint: "check the path given to --template")])
        }
        var diagnostics: [Diagnostic] = []
        var template: PromptTemplate?
        if path.lowercased().hasSuffix(".json") {
            do {
                let root = try JSONParser.parseFile(path)
                var reader = TemplateJSONReader(fields: JSONFieldReader(file: path))
                template = reader.read(root)
                diagnostics += reader.fields.diagnostics.all
            } catch {
                diagnostics += error.diagnostics
            }
        } else {
            do {
                let root = try XMLDocument.parse(contentsOf: path)
                var reader = TemplateXMLReader(file: path)
                template = reader.read(root)
                diagnostics += reader.diagnostics.all
            } catch {
                diagnostics.append(Diagnostic(error))
            }
        }
        if let template {
            diagnostics += TemplateRenderer.check(template, against: RenderContext.exemplar(for: template))
        }
        let usable = !diagnostics.contains { $0.severity == .error }
        return Result(template: usable ? template : nil, diagnostics: diagnostics)
    }

    /// Loads a template, throwing every diagnostic when any is an error.
    public static func loadOrThrow(_ path: String) throws(DiagnosticError) -> PromptTemplate {
        let result = load(path)
        guard let template = result.template else { throw DiagnosticError(result.diagnostics) }
        return template
    }
}

struct TemplateXMLReader {
    let file: String
    var diagnostics = Diagnostics()

    func location(_ element: XMLElement) -> SourceLocation {
        SourceLocation(file: file, line: element.line, column: element.column)
    }

    /// The element's text as Mustache source, positioned where the text starts in the file.
    func templateText(_ element: XMLElement) -> TemplateText? {
        let raw = element.text
        guard !raw.trimmingXMLWhitespace().isEmpty else { return nil }
        let tagLength = 2 + element.qualifiedName.count
            + element.attributes.reduce(0) { $0 + 4 + $1.name.localName.count + $1.value.count }
        return TemplateText(raw, line: element.line, column: element.column + tagLength)
    }

    mutating func read(_ root: XMLElement) -> PromptTemplate? {
        guard root.localName == "template", root.namespaceURI == nil else {
            diagnostics.error(
                "the root element is <\(root.qualifiedName)>, not <template>", at: location(root), hint: "see templates/README.md")
            return nil
        }
        guard let id = root.attribute("id"), !id.isEmpty else {
            diagnostics.error("<template> has no id", at: location(root), hint: "add id=\"catalog-packshot\"")
            return nil
        }
        var output = PromptTemplate.Output()
        var grounding = PromptTemplate.Grounding()
        var sections: [PromptTemplate.Section] = []
        var prompt: TemplateText?
        var altText = PromptTemplate.AltText()
        var description: String?, model: String?, role: String?, channel: String?
        for element in root.elements {
            switch element.localName {
            case "description": description = element.trimmedText.map(BrandXMLReader.collapsingWhitespace)
            case "model": model = element.trimmedText
            case "role": role = element.trimmedText
            case "channel": channel = element.trimmedText
            case "output": output = readOutput(element)
            case "grounding":
                grounding.web = flag(element, "web")
                grounding.image = flag(element, "image")
            case "sections":
                for section in element.elements {
                    guard section.localName == "section" else {
                        warnUnknown(section, in: element, known: ["section"])
                        continue
                    }
                    if let parsed = readSection(section) { sections.append(parsed) }
                }
            case "prompt": prompt = templateText(element)
            case "alt-text":
                if let modeText = element.attribute("mode") {
                    if let mode = PromptTemplate.AltText.Mode(rawValue: modeText) {
                        altText.mode = mode
                    } else {
                        diagnostics.error(
                            "alt-text mode \"\(modeText)\" is not one Onbrand knows", at: location(element),
                            hint: "use inline, describe or fallback-only")
                    }
                }
                for child in element.elements {
                    switch child.localName {
                    case "instruction": altText.instruction = templateText(child)
                    case "fallback": altText.fallback = templateText(child)
                    default: warnUnknown(child, in: element, known: ["instruction", "fallback"])
                    }
                }
            default:
                warnUnknown(
                    element, in: root,
                    known: ["description", "model", "role", "channel", "output", "grounding", "sections", "prompt", "alt-text"])
            }
        }
        guard let prompt else {
            diagnostics.error("<template> has no <prompt>", at: location(root), hint: "add <prompt>…</prompt> with the request text")
            return nil
        }
        var seen: Set<String> = []
        for section in sections where !seen.insert(section.id).inserted {
            diagnostics.error("section id \"\(section.id)\" is used twice", at: location(root), hint: "give each section its own id")
        }
        return PromptTemplate(
            id: id, version: root.attribute("version") ?? "1", description: description, model: model, role: role,
            channel: channel, output: output, grounding: grounding, sections: sections, prompt: prompt, altText: altText,
            sourceFile: file)
    }

    private mutating func readOutput(_ element: XMLElement) -> PromptTemplate.Output {
        var output = PromptTemplate.Output()
        if let ratioText = element.attribute("aspect-ratio") {
            if let ratio = AspectRatio(rawValue: ratioText) {
                output.aspectRatio = ratio
            } else {
                diagnostics.error(
                    "aspect-ratio \"\(ratioText)\" is not one the image models accept", at: location(element),
                    hint: "use one of " + AspectRatio.allCases.map(\.rawValue).joined(separator: " "))
            }
        }
        if let sizeText = element.attribute("image-size") {
            if let size = ImageSize(rawValue: sizeText.uppercased() == "512" ? "512" : sizeText.uppercased()) {
                output.imageSize = size
            } else {
                diagnostics.error(
                    "image-size \"\(sizeText)\" is not one the image models accept", at: location(element),
                    hint: "use 512, 1K, 2K or 4K")
            }
        }
        let modalities = element.elements("modality").compactMap { modality -> PromptTemplate.Modality? in
            guard let text = modality.trimmedText, let value = PromptTemplate.Modality(rawValue: text.uppercased()) else {
                diagnostics.error(
                    "modality \"\(modality.text)\" is not TEXT or IMAGE", at: location(modality), hint: "use TEXT and IMAGE")
                return nil
            }
            return value
        }
        if !modalities.isEmpty { output.responseModalities = modalities }
        if !output.responseModalities.contains(.image) {
            diagnostics.error("the output has no IMAGE modality", at: location(element), hint: "add <modality>IMAGE</modality>")
        }
        return output
    }

    private mutating func readSection(_ element: XMLElement) -> PromptTemplate.Section? {
        guard let id = element.attribute("id"), !id.isEmpty else {
            diagnostics.error("<section> has no id", at: location(element), hint: "add id=\"brand-core\"")
            return nil
        }
        let priorityText = element.attribute("priority") ?? "medium"
        guard let priority = PromptTemplate.Priority(rawValue: priorityText) else {
            diagnostics.error(
                "priority \"\(priorityText)\" of section \"\(id)\" is not one Onbrand knows", at: location(element),
                hint: "use required, high, medium or low")
            return nil
        }
        let kindText = element.attribute("kind") ?? "text"
        guard let kind = PromptTemplate.Kind(rawValue: kindText) else {
            diagnostics.error(
                "kind \"\(kindText)\" of section \"\(id)\" is not one Onbrand knows", at: location(element),
                hint: "use " + PromptTemplate.Kind.allCases.map(\.rawValue).joined(separator: ", "))
            return nil
        }
        let text = templateText(element)
        if kind == .text, text == nil {
            diagnostics.warning("text section \"\(id)\" is empty", at: location(element), hint: "give it text, or remove it")
        }
        return PromptTemplate.Section(id: id, priority: priority, kind: kind, text: text)
    }

    private mutating func flag(_ element: XMLElement, _ name: String) -> Bool {
        guard let text = element.attribute(name) else { return false }
        switch text.lowercased() {
        case "true", "yes", "1": return true
        case "false", "no", "0": return false
        default:
            diagnostics.error("\(name)=\"\(text)\" is not true or false", at: location(element), hint: "write \(name)=\"true\" or \(name)=\"false\"")
            return false
        }
    }

    private mutating func warnUnknown(_ element: XMLElement, in parent: XMLElement, known: [String]) {
        diagnostics.warning(
            "unknown element <\(element.qualifiedName)> in <\(parent.qualifiedName)> is ignored", at: location(element),
            hint: "expected one of: " + known.map { "<\($0)>" }.joined(separator: ", "))
    }
}

struct TemplateJSONReader {
    var fields: JSONFieldReader

    func text(_ node: JSONNode?) -> TemplateText? {
        guard let node, let string = node.stringValue, !string.trimmingXMLWhitespace().isEmpty else { return nil }
        return TemplateText(string, line: node.position.line, column: node.position.column + 1)
    }

    mutating func read(_ root: JSONNode) -> PromptTemplate? {
        let known = ["$schema", "id", "version", "description", "model", "role", "channel", "output", "grounding", "sections", "prompt", "altText"]
        guard fields.object(root, "", known: known) != nil else { return nil }
        guard let id = fields.string(root["id"], "id") else {
            fields.missing("id", in: root, "")
            return nil
        }
        var output = PromptTemplate.Output()
        if let node = root["output"], fields.object(node, "output", known: ["responseModalities", "aspectRatio", "imageSize"]) != nil {
            if let ratio = fields.string(node["aspectRatio"], "output.aspectRatio") {
                if let value = AspectRatio(rawValue: ratio) {
                    output.aspectRatio = value
                } else {
                    fields.diagnostics.error(
                        "aspect ratio \"\(ratio)\" is not one the image models accept",
                        at: fields.location(node["aspectRatio"]!, "output.aspectRatio"),
                        hint: "use one of " + AspectRatio.allCases.map(\.rawValue).joined(separator: " "))
                }
            }
            if let size = fields.string(node["imageSize"], "output.imageSize") {
                if let value = ImageSize(rawValue: size.uppercased()) {
                    output.imageSize = value
                } else {
                    fields.diagnostics.error(
                        "image size \"\(size)\" is not one the image models accept", at: fields.location(node["imageSize"]!, "output.imageSize"),
                        hint: "use 512, 1K, 2K or 4K")
                }
            }
            if let modalities = fields.strings(node["responseModalities"], "output.responseModalities") {
                output.responseModalities = modalities.compactMap { PromptTemplate.Modality(rawValue: $0.uppercased()) }
                if output.responseModalities.count != modalities.count || !output.responseModalities.contains(.image) {
                    fields.diagnostics.error(
                        "responseModalities must be TEXT and/or IMAGE and include IMAGE",
                        at: fields.location(node["responseModalities"]!, "output.responseModalities"), hint: "use [\"TEXT\", \"IMAGE\"]")
                }
            }
        }
        var grounding = PromptTemplate.Grounding()
        if let node = root["grounding"], fields.object(node, "grounding", known: ["web", "image"]) != nil {
            grounding.web = fields.bool(node["web"], "grounding.web") ?? false
            grounding.image = fields.bool(node["image"], "grounding.image") ?? false
        }
        let sections: [PromptTemplate.Section] = fields.objects(root["sections"], "sections") { fields, node, path in
            guard fields.object(node, path, known: ["id", "priority", "kind", "text"]) != nil else { return nil }
            guard let id = fields.string(node["id"], "\(path).id") else { fields.missing("id", in: node, path); return nil }
            let priorityText = fields.string(node["priority"], "\(path).priority") ?? "medium"
            guard let priority = PromptTemplate.Priority(rawValue: priorityText) else {
                fields.diagnostics.error(
                    "priority \"\(priorityText)\" is not one Onbrand knows", at: fields.location(node["priority"]!, "\(path).priority"),
                    hint: "use required, high, medium or low")
                return nil
            }
            let kindText = fields.string(node["kind"], "\(path).kind") ?? "text"
            guard let kind = PromptTemplate.Kind(rawValue: kindText) else {
                fields.diagnostics.error(
                    "kind \"\(kindText)\" is not one Onbrand knows", at: fields.location(node["kind"]!, "\(path).kind"),
                    hint: "use " + PromptTemplate.Kind.allCases.map(\.rawValue).joined(separator: ", "))
                return nil
            }
            let textNode = node["text"]
            let text: TemplateText? = textNode?.stringValue.flatMap {
                $0.isEmpty ? nil : TemplateText($0, line: textNode!.position.line, column: textNode!.position.column + 1)
            }
            return PromptTemplate.Section(id: id, priority: priority, kind: kind, text: text)
        } ?? []
        guard let prompt = text(root["prompt"]) else {
            if let node = root["prompt"] { fields.typeError(node, "prompt", expected: "a string") } else { fields.missing("prompt", in: root, "") }
            return nil
        }
        var altText = PromptTemplate.AltText()
        if let node = root["altText"], fields.object(node, "altText", known: ["mode", "instruction", "fallback"]) != nil {
            if let mode = fields.string(node["mode"], "altText.mode") {
                if let value = PromptTemplate.AltText.Mode(rawValue: mode) {
                    altText.mode = value
                } else {
                    fields.diagnostics.error(
                        "alt-text mode \"\(mode)\" is not one Onbrand knows", at: fields.location(node["mode"]!, "altText.mode"),
                        hint: "use inline, describe or fallback-only")
                }
            }
            altText.instruction = text(node["instruction"])
            altText.fallback = text(node["fallback"])
        }
        return PromptTemplate(
            id: id, version: root["version"]?.scalarText ?? "1", description: fields.string(root["description"], "description"),
            model: fields.string(root["model"], "model"), role: fields.string(root["role"], "role"),
            channel: fields.string(root["channel"], "channel"), output: output, grounding: grounding, sections: sections,
            prompt: prompt, altText: altText, sourceFile: fields.file)
    }
}
