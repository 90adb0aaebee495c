import Foundation
import OnbrandXML

/// Reads `brand.json` into a ``BrandGuide``; problems carry line, column and coding path.
struct BrandJSONReader {
    var fields: JSONFieldReader
    let directory: String

    init(file: String, directory: String) {
        fields = JSONFieldReader(file: file)
        self.directory = directory
    }

    var diagnostics: Diagnostics { fields.diagnostics }

    mutating func read(_ root: JSONNode, defaultID: String) -> BrandGuide {
        var brand = BrandGuide(id: defaultID)
        let known = [
            "$schema", "id", "version", "extends", "name", "tagline", "voice", "palette", "typography", "logo",
            "imagery", "prohibited", "disclaimers", "altText", "channels", "locales", "referenceImages", "defaults",
        ]
        guard fields.object(root, "", known: known) != nil else { return brand }
        brand.sourceFile = fields.file
        brand.id = fields.string(root["id"], "id") ?? defaultID
        if let version = root["version"] { brand.version = version.scalarText }
        brand.extends = fields.string(root["extends"], "extends")
        brand.name = fields.string(root["name"], "name")
        brand.tagline = fields.string(root["tagline"], "tagline")
        if let node = root["voice"], fields.object(node, "voice", known: Self.voiceKeys) != nil {
            var voice = BrandGuide.Voice()
            voice.adjectives = fields.strings(node["adjectives"], "voice.adjectives")
            voice.dos = fields.strings(node["do"], "voice.do")
            voice.donts = fields.strings(node["dont"], "voice.dont")
            voice.samplePhrases = fields.strings(node["samplePhrases"], "voice.samplePhrases")
            voice.bannedWords = fields.strings(node["bannedWords"], "voice.bannedWords")
            voice.bannedClaims = fields.strings(node["bannedClaims"], "voice.bannedClaims")
            brand.voice = voice
        }
        if let node = root["palette"] { brand.palette = palette(node) }
        brand.typography = fields.objects(root["typography"], "typography") { fields, node, path in
            guard fields.object(node, path, known: ["role", "family", "weight", "fallback"]) != nil else { return nil }
            guard let role = fields.string(node["role"], "\(path).role") else { fields.missing("role", in: node, path); return nil }
            guard let family = fields.string(node["family"], "\(path).family") else {
                fields.missing("family", in: node, path)
                return nil
            }
            let weight = node["weight"]?.scalarText
            return BrandGuide.Typeface(role: role, family: family, weight: weight, fallback: fields.string(node["fallback"], "\(path).fallback"))
        }
        if let node = root["logo"], fields.object(node, "logo", known: ["file", "rules"]) != nil {
            var logo = BrandGuide.Logo()
            logo.file = fields.string(node["file"], "logo.file").map { path($0, node["file"]!, "logo.file") }
            logo.rules = fields.strings(node["rules"], "logo.rules")
            brand.logo = logo
        }
        if let node = root["imagery"],
            fields.object(node, "imagery", known: ["lighting", "background", "composition", "props", "people"]) != nil
        {
            var imagery = BrandGuide.Imagery()
            imagery.lighting = fields.string(node["lighting"], "imagery.lighting")
            imagery.background = fields.string(node["background"], "imagery.background")
            imagery.composition = fields.string(node["composition"], "imagery.composition")
            imagery.props = fields.string(node["props"], "imagery.props")
            imagery.people = fields.string(node["people"], "imagery.people")
            brand.imagery = imagery
        }
        brand.prohibited = fields.strings(root["prohibited"], "prohibited")
        brand.disclaimers = fields.objects(root["disclaimers"], "disclaimers") { fields, node, path in
            if let text = node.stringValue { return BrandGuide.Disclaimer(text: text) }
            guard fields.object(node, path, known: ["text", "channel", "locale"]) != nil else { return nil }
            guard let text = fields.string(node["text"], "\(path).text") else { fields.missing("text", in: node, path); return nil }
            return BrandGuide.Disclaimer(
                text: text, channel: fields.string(node["channel"], "\(path).channel"),
                locale: fields.string(node["locale"], "\(path).locale"))
        }
        if let node = root["altText"] { brand.altText = altText(node, "altText") }
        brand.channels = fields.objects(root["channels"], "channels") { fields, node, path in
            guard fields.object(node, path, known: ["id", "background", "notes"]) != nil else { return nil }
            guard let id = fields.string(node["id"], "\(path).id") else { fields.missing("id", in: node, path); return nil }
            var channel = BrandGuide.Channel(id: id)
            channel.background = fields.string(node["background"], "\(path).background")
            channel.notes = fields.strings(node["notes"], "\(path).notes")
            return channel
        }
        let locales: [BrandGuide.Locale]? = fields.objects(root["locales"], "locales") { fields, node, path in
            guard fields.object(node, path, known: ["code", "name", "notes", "bannedWords", "disclaimers", "altText"]) != nil
            else { return nil }
            guard let code = fields.string(node["code"], "\(path).code") else { fields.missing("code", in: node, path); return nil }
            if !LocaleCode.isValid(code) {
                fields.diagnostics.error(
                    "locale code \"\(code)\" is not a BCP 47 tag", at: fields.location(node["code"]!, "\(path).code"),
                    hint: "write it as en-US, de-DE, ja-JP")
            }
            var locale = BrandGuide.Locale(code: code)
            locale.name = fields.string(node["name"], "\(path).name")
            locale.notes = fields.strings(node["notes"], "\(path).notes")
            locale.bannedWords = fields.strings(node["bannedWords"], "\(path).bannedWords")
            locale.disclaimers = fields.strings(node["disclaimers"], "\(path).disclaimers")
            return locale
        }
        // Locale alt-text styles need `self`, so they are read after the closure above.
        if var locales, let nodes = root["locales"]?.arrayElements {
            for index in locales.indices {
                if let node = nodes.first(where: { $0["code"]?.stringValue == locales[index].code })?["altText"] {
                    locales[index].altText = altText(node, "locales[\(index)].altText")
                }
            }
            brand.locales = locales
        } else {
            brand.locales = locales
        }
        if let nodes = root["referenceImages"]?.arrayElements {
            var images: [BrandGuide.ReferenceImage] = []
            for (index, node) in nodes.enumerated() {
                let itemPath = "referenceImages[\(index)]"
                guard fields.object(node, itemPath, known: ["file", "description"]) != nil else { continue }
                guard let file = fields.string(node["file"], "\(itemPath).file") else { fields.missing("file", in: node, itemPath); continue }
                guard let description = fields.string(node["description"], "\(itemPath).description") else {
                    fields.missing("description", in: node, itemPath)
                    continue
                }
                images.append(BrandGuide.ReferenceImage(file: path(file, node["file"]!, "\(itemPath).file"), description: description))
            }
            brand.referenceImages = images
        } else if let node = root["referenceImages"], !node.isNull {
            fields.typeError(node, "referenceImages", expected: "an array")
        }
        if let node = root["defaults"], fields.object(node, "defaults", known: ["catalog", "templates"]) != nil {
            var defaults = BrandGuide.Defaults()
            defaults.catalog = fields.string(node["catalog"], "defaults.catalog").map { path($0, node["catalog"]!, "defaults.catalog") }
            if let templates = fields.strings(node["templates"], "defaults.templates") {
                defaults.templates = templates.enumerated().map { index, template in
                    path(template, node["templates"]!.arrayElements?[index] ?? node, "defaults.templates[\(index)]")
                }
            }
            brand.defaults = defaults
        }
        return brand
    }

    static let voiceKeys = ["adjectives", "do", "dont", "samplePhrases", "bannedWords", "bannedClaims"]

    private mutating func palette(_ node: JSONNode) -> BrandGuide.Palette? {
        guard fields.object(node, "palette", known: ["tokens", "tokenPrefix", "colors", "tolerance", "batchTolerance"]) != nil else { return nil }
        var palette = BrandGuide.Palette()
        for (key, keyPath) in [("tolerance", \BrandGuide.Palette.tolerance), ("batchTolerance", \BrandGuide.Palette.batchTolerance)] {
            guard let value = fields.double(node[key], "palette.\(key)") else { continue }
            if value > 0, value <= 100 {
                palette[keyPath: keyPath] = value
            } else {
                fields.diagnostics.error(
                    "\(key) \(value) is not a ΔE2000 between 0 and 100", at: fields.location(node[key]!, "palette.\(key)"),
                    hint: "3.0 is a difference most viewers notice side by side; 2.0 is strict")
            }
        }
        palette.tokensFile = fields.string(node["tokens"], "palette.tokens").map { path($0, node["tokens"]!, "palette.tokens") }
        palette.tokenPrefix = fields.string(node["tokenPrefix"], "palette.tokenPrefix")
        palette.colors = fields.objects(node["colors"], "palette.colors") { fields, node, path in
            guard fields.object(node, path, known: ["name", "hex", "role", "usage", "token"]) != nil else { return nil }
            guard let name = fields.string(node["name"], "\(path).name") else { fields.missing("name", in: node, path); return nil }
            let role = fields.string(node["role"], "\(path).role")
            var usage = fields.double(node["usage"], "\(path).usage")
            if let value = usage, !(0...100).contains(value) {
                fields.diagnostics.error(
                    "usage \(value) is not a percentage", at: fields.location(node["usage"]!, "\(path).usage"),
                    hint: "write a number from 0 to 100")
                usage = nil
            }
            if let hexText = fields.string(node["hex"], "\(path).hex") {
                guard let hex = HexColor.normalized(hexText) else {
                    fields.diagnostics.error(
                        "\"\(hexText)\" is not a hex colour", at: fields.location(node["hex"]!, "\(path).hex"),
                        hint: "write #RGB, #RRGGBB or #RRGGBBAA, e.g. #1F4D3A")
                    return nil
                }
                return BrandGuide.BrandColor(name: name, hex: hex, role: role, usage: usage)
            }
            if let token = fields.string(node["token"], "\(path).token") {
                return BrandGuide.BrandColor(name: name, hex: "", role: role, usage: usage, token: token)
            }
            fields.diagnostics.error(
                "colour \"\(name)\" has neither \"hex\" nor \"token\"", at: fields.location(node, path),
                hint: "add \"hex\": \"#RRGGBB\", or \"token\" with a tokens file on the palette")
            return nil
        }
        return palette
    }

    private mutating func altText(_ node: JSONNode, _ path: String) -> BrandGuide.AltTextStyle? {
        guard fields.object(node, path, known: ["tone", "maxLength", "language", "caption"]) != nil else { return nil }
        var style = BrandGuide.AltTextStyle()
        style.tone = fields.string(node["tone"], "\(path).tone")
        style.caption = fields.bool(node["caption"], "\(path).caption")
        style.language = fields.string(node["language"], "\(path).language")
        if let max = fields.int(node["maxLength"], "\(path).maxLength") {
            if (1...1000).contains(max) {
                style.maxLength = max
            } else {
                fields.diagnostics.error(
                    "maxLength \(max) is out of range", at: fields.location(node["maxLength"]!, "\(path).maxLength"),
                    hint: "give a number of characters from 1 to 1000; 125 is the default")
            }
        }
        return style
    }

    private mutating func path(_ relative: String, _ node: JSONNode, _ codingPath: String) -> String {
        let resolved = BrandPaths.resolve(relative, against: directory)
        if !FileManager.default.fileExists(atPath: resolved) {
            fields.diagnostics.error(
                "\"\(relative)\" does not exist (looked for \(resolved))", at: fields.location(node, codingPath),
                hint: "paths in a brand file are relative to the file itself")
        }
        return resolved
    }
}
