import Foundation
import OnbrandXML

/// Turns JSON product objects into ``Product`` values, reporting problems by line, column and
/// coding path. Shared by every JSON catalog format.
struct JSONProductMapper {
    let displayName: String
    var diagnostics = DiagnosticBudget()

    func location(_ node: JSONNode, _ path: String) -> SourceLocation {
        SourceLocation(file: displayName, line: node.position.line, column: node.position.column, codingPath: path)
    }

    mutating func report(_ message: String, _ node: JSONNode, _ path: String, hint: String?, severity: Diagnostic.Severity = .error) {
        diagnostics.append(Diagnostic(severity, message, at: location(node, path), hint: hint))
    }

    mutating func checkSafety(_ product: Product, _ node: JSONNode, _ path: String) {
        if let problem = FileNameSafety.problem(with: product.id) {
            report(
                "product ID \"\(product.id)\" is unsafe as a file name: \(problem)", node, path,
                hint: "it is kept as data; output files use a sanitised name", severity: .warning)
        }
    }

    // MARK: - Onbrand JSON (Merchant attribute names)

    mutating func onbrandProduct(_ node: JSONNode, path: String) -> Product? {
        guard let members = node.objectMembers else {
            report("expected a product object, found \(node.kindDescription)", node, path, hint: "write each product as {\"id\": …}")
            return nil
        }
        var fields = ProductFields()
        for (key, value) in members {
            let memberPath = "\(path).\(key)"
            switch key {
            case "product_detail":
                for (index, detail) in (value.arrayElements ?? [value]).enumerated() {
                    fields.addDetail(
                        section: detail["section_name"]?.scalarText, name: detail["attribute_name"]?.scalarText,
                        value: detail["attribute_value"]?.scalarText)
                    _ = index
                }
            case "shipping":
                for entry in value.arrayElements ?? [value] {
                    fields.addShipping(
                        country: entry["country"]?.scalarText, region: entry["region"]?.scalarText,
                        service: entry["service"]?.scalarText, price: entry["price"]?.scalarText)
                }
            default:
                switch value.value {
                case .string, .number, .bool:
                    if key == "id", case .number = value.value {
                        report(
                            "the product ID is a number", value, memberPath,
                            hint: "write IDs as strings so leading zeros and long digits survive", severity: .warning)
                    }
                    fields.set(key, value.scalarText!)
                case .array(let elements):
                    for (index, element) in elements.enumerated() {
                        guard let text = element.scalarText else {
                            report("expected text, found \(element.kindDescription)", element, "\(memberPath)[\(index)]", hint: nil)
                            continue
                        }
                        if ProductFields.knownNames.contains(key) || key.hasSuffix("_link") || key == "product_highlight" {
                            fields.set(key, text)
                        } else {
                            fields.addExtra(key, text)
                        }
                    }
                case .null:
                    continue
                case .object:
                    if ProductFields.knownNames.contains(key) {
                        report("expected text, found an object", value, memberPath, hint: "write \"\(key)\" as a string")
                    } else {
                        flatten(value, prefix: key, into: &fields)
                    }
                }
            }
        }
        let product = fields.build()
        for problem in fields.problems { report(problem.message, node, path, hint: problem.hint) }
        guard let product else {
            report("the product has no \"id\"", node, path, hint: "add \"id\" with a unique identifier")
            return nil
        }
        checkSafety(product, node, path)
        return product
    }

    private func flatten(_ node: JSONNode, prefix: String, into fields: inout ProductFields) {
        switch node.value {
        case .object(let members):
            for (key, value) in members { flatten(value, prefix: "\(prefix).\(key)", into: &fields) }
        case .array(let elements):
            for element in elements { flatten(element, prefix: prefix, into: &fields) }
        case .null:
            break
        default:
            fields.addExtra(prefix, node.scalarText ?? "")
        }
    }

    // MARK: - Shopify

    /// One ``Product`` per variant; variants share the Shopify product's ID as their group.
    mutating func shopifyProducts(_ node: JSONNode, path: String) -> [Product] {
        guard node.objectMembers != nil else {
            report("expected a Shopify product object, found \(node.kindDescription)", node, path, hint: nil)
            return []
        }
        guard let productID = node["id"]?.scalarText ?? node["handle"]?.scalarText else {
            report("the Shopify product has neither \"id\" nor \"handle\"", node, path, hint: "export products with their id")
            return []
        }
        var base = ProductFields()
        base.set("id", productID)
        if let title = node["title"]?.scalarText { base.set("title", title) }
        if let html = node["body_html"]?.scalarText { base.set("description", HTMLText.plain(html)) }
        if let vendor = node["vendor"]?.scalarText { base.set("brand", vendor) }
        if let type = node["product_type"]?.scalarText { base.set("product_type", type) }
        if let handle = node["handle"]?.scalarText { base.addExtra("handle", handle) }
        switch node["tags"]?.value {
        case .string(let tags):
            for tag in tags.split(separator: ",") { base.addExtra("tag", String(tag)) }
        case .array(let tags):
            for tag in tags { if let text = tag.scalarText { base.addExtra("tag", text) } }
        default: break
        }
        let images = (node["images"]?.arrayElements ?? []).compactMap { image -> (id: String?, src: String)? in
            guard let src = image["src"]?.scalarText else { return nil }
            return (image["id"]?.scalarText, src)
        }
        let optionNames = (node["options"]?.arrayElements ?? []).map { $0["name"]?.scalarText?.lowercased() }
        let variants = node["variants"]?.arrayElements ?? []
        guard !variants.isEmpty else {
            var fields = base
            if let first = images.first { fields.set("image_link", first.src) }
            for image in images.dropFirst() { fields.set("additional_image_link", image.src) }
            guard let product = fields.build() else { return [] }
            checkSafety(product, node, path)
            return [product]
        }
        var products: [Product] = []
        for (index, variant) in variants.enumerated() {
            let variantPath = "\(path).variants[\(index)]"
            var fields = ProductFields()
            let variantID = variant["id"]?.scalarText
            let sku = variant["sku"]?.scalarText.flatMap { $0.isEmpty ? nil : $0 }
            guard let id = sku ?? variantID.map({ "\(productID)-\($0)" }) else {
                report("the variant has neither \"sku\" nor \"id\"", variant, variantPath, hint: "export variants with their id")
                continue
            }
            fields.set("id", id)
            if variants.count > 1 { fields.set("item_group_id", productID) }
            let variantTitle = variant["title"]?.scalarText
            if let title = node["title"]?.scalarText {
                let isDefault = variantTitle == nil || variantTitle == "Default Title" || variants.count == 1
                fields.set("title", isDefault ? title : "\(title) – \(variantTitle!)")
            }
            if let price = variant["price"]?.scalarText { fields.set("price", price) }
            if let compare = variant["compare_at_price"]?.scalarText, let price = variant["price"]?.scalarText,
                compare != price, Double(compare) ?? 0 > Double(price) ?? 0
            {
                // Shopify's compare-at price is the regular price; the variant price is then a sale price.
                fields.set("price", compare)
                fields.set("sale_price", price)
            }
            if let barcode = variant["barcode"]?.scalarText { fields.set("gtin", barcode) }
            if let available = variant["available"]?.boolValue {
                fields.set("availability", available ? "in_stock" : "out_of_stock")
            } else if let quantity = variant["inventory_quantity"]?.doubleValue {
                fields.set("availability", quantity > 0 ? "in_stock" : "out_of_stock")
            }
            for option in 1...3 {
                guard let value = variant["option\(option)"]?.scalarText else { continue }
                let name = option - 1 < optionNames.count ? optionNames[option - 1] : nil
                switch name {
                case "color", "colour": fields.set("color", value)
                case "size": fields.set("size", value)
                case "material": fields.set("material", value)
                case "pattern": fields.set("pattern", value)
                default: if value != "Default Title" { fields.addExtra(name.map { "option.\($0)" } ?? "option\(option)", value) }
                }
            }
            let imageID = variant["image_id"]?.scalarText
            let own = images.first { imageID != nil && $0.id == imageID } ?? images.first
            if let own { fields.set("image_link", own.src) }
            for image in images where image.src != own?.src { fields.set("additional_image_link", image.src) }
            guard var product = fields.build() else { continue }
            let shared = base.product
            product.description = shared.description
            product.brand = shared.brand
            product.productType = shared.productType
            product.extraAttributes = shared.extraAttributes + product.extraAttributes
            for problem in fields.problems { report(problem.message, variant, variantPath, hint: problem.hint) }
            checkSafety(product, variant, variantPath)
            products.append(product)
        }
        return products
    }

    // MARK: - schema.org JSON-LD

    /// A `Product`, or every variant of a `ProductGroup`, each grouped by `productGroupID`.
    mutating func jsonLDProducts(_ node: JSONNode, path: String) -> [Product] {
        let types = Self.types(of: node)
        if types.contains("ProductGroup") {
            let groupID = node["productGroupID"]?.scalarText ?? node["sku"]?.scalarText ?? node["@id"]?.scalarText
            var products: [Product] = []
            for (index, variant) in (node["hasVariant"]?.arrayElements ?? []).enumerated() {
                guard var product = jsonLDProduct(variant, path: "\(path).hasVariant[\(index)]", inheriting: node) else { continue }
                product.itemGroupID = product.itemGroupID ?? groupID
                products.append(product)
            }
            if products.isEmpty {
                report("the ProductGroup has no hasVariant products", node, path, hint: "list its variants in \"hasVariant\"")
            }
            return products
        }
        if types.contains("Product") || types.isEmpty {
            return jsonLDProduct(node, path: path, inheriting: nil).map { [$0] } ?? []
        }
        return []
    }

    static func types(of node: JSONNode) -> [String] {
        switch node["@type"]?.value {
        case .string(let type): [type.replacingOccurrences(of: "schema:", with: "")]
        case .array(let types): types.compactMap { $0.stringValue?.replacingOccurrences(of: "schema:", with: "") }
        default: []
        }
    }

    private static let jsonLDHandled: Set<String> = [
        "@context", "@type", "@id", "sku", "productID", "name", "description", "url", "image", "brand", "offers",
        "gtin", "gtin8", "gtin12", "gtin13", "gtin14", "mpn", "color", "size", "material", "pattern", "category",
        "inProductGroupWithID", "productGroupID", "hasVariant", "variesBy", "itemCondition", "audience", "inLanguage",
        "additionalProperty",
    ]

    private mutating func jsonLDProduct(_ node: JSONNode, path: String, inheriting group: JSONNode?) -> Product? {
        func value(_ key: String) -> JSONNode? { node[key] ?? group?[key] }
        var fields = ProductFields()
        let id = node["sku"] ?? node["productID"] ?? node["gtin13"] ?? node["gtin"] ?? node["mpn"] ?? node["@id"]
        if let id = id?.scalarText {
            fields.set("id", id)
        } else if let name = node["name"]?.scalarText, !Self.slug(name).isEmpty {
            // Product pages often carry no identifier at all; the name is the only stable handle.
            fields.set("id", Self.slug(name))
            report(
                "the schema.org Product has no sku; its ID \"\(Self.slug(name))\" is made from its name", node, path,
                hint: "add \"sku\" so the ID survives a change of name", severity: .warning)
        }
        if let name = value("name")?.scalarText { fields.set("title", name) }
        for property in node["additionalProperty"]?.arrayElements ?? [] {
            fields.addDetail(section: nil, name: property["name"]?.scalarText, value: property["value"]?.scalarText)
        }
        if let description = value("description")?.scalarText { fields.set("description", HTMLText.plain(description)) }
        if let url = value("url")?.scalarText { fields.set("link", url) }
        for (index, image) in Self.imageURLs(value("image")).enumerated() {
            fields.set(index == 0 ? "image_link" : "additional_image_link", image)
        }
        switch value("brand")?.value {
        case .string(let brand): fields.set("brand", brand)
        case .object: if let brand = value("brand")?["name"]?.scalarText { fields.set("brand", brand) }
        default: break
        }
        for key in ["gtin", "gtin8", "gtin12", "gtin13", "gtin14"] {
            if let gtin = node[key]?.scalarText { fields.set("gtin", gtin) }
        }
        for (key, field) in [("mpn", "mpn"), ("color", "color"), ("size", "size"), ("material", "material"), ("pattern", "pattern")] {
            if let text = value(key)?.scalarText ?? value(key)?["name"]?.scalarText { fields.set(field, text) }
        }
        if let category = value("category")?.scalarText { fields.set("product_type", category) }
        if let group = node["inProductGroupWithID"]?.scalarText { fields.set("item_group_id", group) }
        if let condition = value("itemCondition")?.scalarText { fields.set("condition", Self.schemaEnum(condition, dropping: "Condition")) }
        if let gender = value("audience")?["suggestedGender"]?.scalarText { fields.set("gender", gender) }
        if let language = value("inLanguage")?.scalarText { fields.set("content_language", language) }
        let offers = value("offers")
        let offer = offers?.arrayElements?.first ?? offers
        if let offer {
            let currency = offer["priceCurrency"]?.scalarText
            if let price = offer["price"]?.scalarText ?? offer["lowPrice"]?.scalarText {
                fields.set("price", currency.map { "\(price) \($0)" } ?? price)
            }
            if let availability = offer["availability"]?.scalarText {
                fields.set("availability", Self.schemaEnum(availability, dropping: nil))
            }
            if let condition = offer["itemCondition"]?.scalarText {
                fields.set("condition", Self.schemaEnum(condition, dropping: "Condition"))
            }
        }
        for (key, member) in node.objectMembers ?? [] where !Self.jsonLDHandled.contains(key) {
            flatten(member, prefix: key, into: &fields)
        }
        let product = fields.build()
        for problem in fields.problems { report(problem.message, node, path, hint: problem.hint) }
        guard let product else {
            report(
                "the schema.org Product has no identifier", node, path,
                hint: "add \"sku\" (or \"productID\", \"gtin13\", \"mpn\", \"@id\")")
            return nil
        }
        checkSafety(product, node, path)
        return product
    }

    /// `Even G2` → `even-g2`.
    static func slug(_ name: String) -> String {
        var slug = ""
        for scalar in name.lowercased().unicodeScalars {
            if scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) {
                slug.unicodeScalars.append(scalar)
            } else if !slug.isEmpty, !slug.hasSuffix("-") {
                slug += "-"
            }
        }
        while slug.hasSuffix("-") { slug.removeLast() }
        return String(slug.prefix(80))
    }

    private static func imageURLs(_ node: JSONNode?) -> [String] {
        guard let node else { return [] }
        switch node.value {
        case .string(let url): return [url]
        case .array(let images): return images.flatMap { imageURLs($0) }
        case .object: return [node["contentUrl"]?.scalarText ?? node["url"]?.scalarText].compactMap { $0 }
        default: return []
        }
    }

    /// `https://schema.org/InStock` → `in_stock`; `NewCondition` → `new`.
    static func schemaEnum(_ value: String, dropping suffix: String?) -> String {
        var name = value.split(separator: "/").last.map(String.init) ?? value
        if let suffix, name.hasSuffix(suffix), name.count > suffix.count { name.removeLast(suffix.count) }
        var snake = ""
        for character in name {
            if character.isUppercase, !snake.isEmpty { snake += "_" }
            snake += character.lowercased()
        }
        return snake
    }
}

/// Reads a whole JSON catalog (Shopify, JSON-LD or Onbrand JSON), then hands out its products.
final class JSONDocumentProductSource: ProductSource {
    let format: CatalogFormat
    private var mapper: JSONProductMapper
    private var pending: [(node: JSONNode, path: String)]
    private var queued: [Product] = []
    private var cursor = 0

    init(path: String, displayName: String) throws(DiagnosticError) {
        mapper = JSONProductMapper(displayName: displayName)
        let root = try JSONParser.parseFile(
            path, displayName: displayName, maximumSize: CatalogReader.maximumJSONDocumentSize,
            sizeHint: "convert it to JSON Lines (.jsonl), which streams")
        (format, pending) = Self.classify(root)
        if pending.isEmpty, format == .onbrandJSON, root.arrayElements == nil, root["products"] == nil {
            throw DiagnosticError(
                .error(
                    "expected an array of products or an object with \"products\", found \(root.kindDescription)",
                    at: SourceLocation(file: displayName, line: root.position.line, column: root.position.column),
                    hint: "see brands/README.md for the catalog formats"))
        }
    }

    /// Tells the format from the document's shape and lists the product nodes with their paths.
    private static func classify(_ root: JSONNode) -> (CatalogFormat, [(JSONNode, String)]) {
        if root["@context"] != nil || root["@type"] != nil || root["@graph"] != nil {
            if let graph = root["@graph"]?.arrayElements {
                return (.jsonLD, graph.enumerated().map { ($0.element, "@graph[\($0.offset)]") })
            }
            return (.jsonLD, [(root, "")])
        }
        var list: [(JSONNode, String)] = []
        if let elements = root.arrayElements {
            list = elements.enumerated().map { ($0.element, "[\($0.offset)]") }
        } else if let products = root["products"]?.arrayElements {
            list = products.enumerated().map { ($0.element, "products[\($0.offset)]") }
        } else if root["product"] != nil, let product = root["product"] {
            list = [(product, "product")]
        }
        if let first = list.first?.0, first["@type"] != nil || first["@context"] != nil {
            return (.jsonLD, list)
        }
        let isShopify = list.prefix(5).contains { node, _ in
            node["variants"] != nil || node["body_html"] != nil || node["handle"] != nil
        }
        return (isShopify ? .shopify : .onbrandJSON, list)
    }

    func next() throws(DiagnosticError) -> Product? {
        while cursor >= queued.count {
            guard !pending.isEmpty else { return nil }
            let (node, path) = pending.removeFirst()
            queued = []
            cursor = 0
            switch format {
            case .shopify: queued = mapper.shopifyProducts(node, path: path)
            case .jsonLD: queued = mapper.jsonLDProducts(node, path: path)
            default: queued = mapper.onbrandProduct(node, path: path).map { [$0] } ?? []
            }
        }
        defer { cursor += 1 }
        return queued[cursor]
    }

    func resolvedDiagnostics() -> [Diagnostic] { mapper.diagnostics.all(file: mapper.displayName) }
}

/// Streams Onbrand JSON Lines: one product object a line, read in 1 MiB chunks.
final class JSONLinesProductSource: ProductSource {
    /// A line longer than this is refused rather than buffered without bound.
    static let maximumLineLength = 16 << 20
    private let handle: FileHandle
    private var mapper: JSONProductMapper
    private var buffer = Data()
    private var lineNumber = 0
    private var isAtEnd = false

    init(path: String, displayName: String) throws(DiagnosticError) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DiagnosticError(.error("cannot open the file for reading", at: SourceLocation(file: displayName)))
        }
        self.handle = handle
        mapper = JSONProductMapper(displayName: displayName)
    }

    deinit { try? handle.close() }

    private func nextLine() throws(DiagnosticError) -> Data? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = buffer[buffer.startIndex..<newline]
                buffer = buffer[(newline + 1)...]
                lineNumber += 1
                return Data(line)
            }
            if isAtEnd {
                guard !buffer.isEmpty else { return nil }
                defer { buffer = Data() }
                lineNumber += 1
                return Data(buffer)
            }
            if buffer.count > Self.maximumLineLength {
                throw DiagnosticError(
                    .error(
                        "line \(lineNumber + 1) is longer than \(Self.maximumLineLength) bytes",
                        at: SourceLocation(file: mapper.displayName, line: lineNumber + 1, column: 1),
                        hint: "JSON Lines needs one product a line; check that the file is not a single JSON document"))
            }
            let chunk = (try? handle.read(upToCount: 1 << 20)) ?? Data()
            if chunk.isEmpty { isAtEnd = true } else { buffer = Data(buffer) + chunk }
        }
    }

    func next() throws(DiagnosticError) -> Product? {
        while let line = try nextLine() {
            if line.allSatisfy({ [0x20, 0x09, 0x0D].contains($0) }) { continue }
            let node: JSONNode
            do {
                node = try JSONParser.parse(line, startingAtLine: lineNumber)
            } catch {
                throw DiagnosticError(mapper.diagnostics.all(file: mapper.displayName) + [error.diagnostic(in: mapper.displayName)])
            }
            if let product = mapper.onbrandProduct(node, path: "line \(lineNumber)") { return product }
        }
        return nil
    }

    func resolvedDiagnostics() -> [Diagnostic] { mapper.diagnostics.all(file: mapper.displayName) }
}

/// Plain text from the small HTML fragments catalogs carry (`body_html`).
enum HTMLText {
    static func plain(_ html: String) -> String {
        var text = ""
        var isInTag = false
        for character in html {
            if character == "<" {
                isInTag = true
                text += " "
            } else if character == ">" {
                isInTag = false
            } else if !isInTag {
                text.append(character)
            }
        }
        let entities = ["&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": "\"", "&#39;": "'", "&nbsp;": " "]
        for (entity, replacement) in entities { text = text.replacingOccurrences(of: entity, with: replacement) }
        return text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}
