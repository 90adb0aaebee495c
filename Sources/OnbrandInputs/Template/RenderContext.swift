/// The values a template is rendered with: `{brand, product, locale}`, as plain Sendable data.
public struct RenderContext: Sendable, Hashable {
    /// Not `indirect`: lists and maps keep their members in arrays already, and a boxed case
    /// cost an allocation for every string of every product.
    public enum Value: Sendable, Hashable {
        case string(String)
        case bool(Bool)
        case list([Value])
        case map(Members)

        /// The value's structure without its text: which keys hold what, empty strings and booleans
        /// told apart, a list by the shapes of its items. Values of one shape resolve the same tags.
        var shape: String {
            switch self {
            case .string(let string): string.isEmpty ? "e" : "s"
            case .bool(let bool): bool ? "t" : "f"
            case .list(let values): "[" + Set(values.map(\.shape)).sorted().joined(separator: ",") + "]"
            case .map(let members): "{" + members.keys.sorted().map { "\($0):\(members[$0]!.shape)" }.joined(separator: ",") + "}"
            }
        }

        /// The form swift-mustache walks: dictionaries, arrays, strings.
        var mustacheValue: Any {
            switch self {
            case .string(let string): string
            case .bool(let bool): bool
            case .list(let values): values.map(\.mustacheValue)
            case .map(let members): members.mapValues(\.mustacheValue)
            }
        }
    }

    /// A map's members in the order they were added. A context map holds a handful of short names,
    /// and comparing those is cheaper than hashing one: looking names up in dictionaries was a
    /// third of rendering a catalog.
    public struct Members: Sendable, Hashable, ExpressibleByDictionaryLiteral {
        public private(set) var keys: [String] = []
        public private(set) var values: [Value] = []

        public init() {}

        public init(dictionaryLiteral elements: (String, Value)...) {
            reserveCapacity(elements.count)
            for (key, value) in elements { self[key] = value }
        }

        public init(_ dictionary: [String: Value]) {
            reserveCapacity(dictionary.count)
            for (key, value) in dictionary { append(key, value) }
        }

        public var count: Int { keys.count }
        public var isEmpty: Bool { keys.isEmpty }

        public subscript(key: String) -> Value? {
            get { index(of: key).map { values[$0] } }
            set {
                switch (index(of: key), newValue) {
                case (let index?, let value?): values[index] = value
                case (let index?, nil):
                    keys.remove(at: index)
                    values.remove(at: index)
                case (nil, let value?): append(key, value)
                case (nil, nil): break
                }
            }
        }

        func index(of key: String) -> Int? {
            let length = key.utf8.count
            for index in keys.indices where keys[index].utf8.count == length && keys[index] == key { return index }
            return nil
        }

        /// Adds a member whose name is not among the members yet (the caller knows).
        mutating func append(_ key: String, _ value: Value) {
            keys.append(key)
            values.append(value)
        }

        mutating func reserveCapacity(_ count: Int) {
            keys.reserveCapacity(count)
            values.reserveCapacity(count)
        }

        public func mapValues<T>(_ transform: (Value) throws -> T) rethrows -> [String: T] {
            var mapped: [String: T] = [:]
            mapped.reserveCapacity(count)
            for index in keys.indices { mapped[keys[index]] = try transform(values[index]) }
            return mapped
        }

        /// Equal when they hold the same names with the same values, in whatever order.
        public static func == (lhs: Members, rhs: Members) -> Bool {
            lhs.count == rhs.count && lhs.keys.indices.allSatisfy { rhs[lhs.keys[$0]] == lhs.values[$0] }
        }

        public func hash(into hasher: inout Hasher) {
            // Order-free, as equality is: the members' own hashes, combined by addition.
            var sum = 0
            for index in keys.indices {
                var member = Hasher()
                member.combine(keys[index])
                member.combine(values[index])
                sum &+= member.finalize()
            }
            hasher.combine(count)
            hasher.combine(sum)
        }
    }

    public var root: [String: Value]
    /// Names the brand-and-locale part of ``root``. Texts that never name the product render
    /// identically for every context with the same key, so the renderer reuses them. `nil`: no reuse.
    public var sharedPartKey: String?

    public init(root: [String: Value], sharedPartKey: String? = nil) {
        self.root = root
        self.sharedPartKey = sharedPartKey
    }

    /// A context from parts built once per brand and locale (see ``brandValue(_:locale:channel:)``).
    public init(brand: Value, product: Product, locale: Value, sharedPartKey: String?) {
        root = ["brand": brand, "product": Self.productValue(product), "locale": locale]
        self.sharedPartKey = sharedPartKey
    }

    /// The context for one product in one locale, with the template's channel picked out of the brand.
    public init(brand: BrandGuide, product: Product, locale: String, channel: String?) {
        root = [
            "brand": Self.brandValue(brand, locale: locale, channel: channel),
            "product": Self.productValue(product),
            "locale": Self.localeValue(brand, code: locale),
        ]
    }

    // MARK: - Building

    private static func map(_ pairs: [(String, Value?)]) -> Value {
        var members = Members()
        members.reserveCapacity(pairs.count)
        for (key, value) in pairs {
            if let value { members[key] = value }
        }
        return .map(members)
    }

    private static func text(_ string: String?) -> Value? {
        guard let string, !string.isEmpty else { return nil }
        return .string(string)
    }

    private static func list(_ strings: [String]?) -> Value { .list((strings ?? []).map(Value.string)) }

    /// The `brand` part of a context for a locale and channel.
    public static func brandValue(_ brand: BrandGuide, locale: String, channel channelID: String?) -> Value {
        let voice = brand.voice ?? BrandGuide.Voice()
        let imagery = brand.imagery ?? BrandGuide.Imagery()
        let localeRules = brand.locale(locale)
        let style = localeRules?.altText.map { BrandGuide.AltTextStyle.inheriting($0, brand.altText ?? .init()) } ?? brand.altText
        let disclaimers = (brand.disclaimers ?? []).filter { disclaimer in
            (disclaimer.channel == nil || disclaimer.channel == channelID)
                && (disclaimer.locale == nil || disclaimer.locale?.lowercased() == locale.lowercased())
        }
        let channel = channelID.flatMap { brand.channel($0) }
        return map([
            ("id", text(brand.id)),
            ("name", text(brand.name)),
            ("tagline", text(brand.tagline)),
            (
                "voice",
                map([
                    ("adjectives", list(voice.adjectives)), ("do", list(voice.dos)), ("dont", list(voice.donts)),
                    ("samplePhrases", list(voice.samplePhrases)),
                    ("bannedWords", list((voice.bannedWords ?? []) + (localeRules?.bannedWords ?? []))),
                    ("bannedClaims", list(voice.bannedClaims)),
                ])
            ),
            (
                "palette",
                .list(
                    brand.colors.map { color in
                        map([
                            ("name", text(color.name)), ("hex", text(color.hex)), ("role", text(color.role)),
                            ("usage", color.usage.map { .string(Self.format($0)) }),
                        ])
                    })
            ),
            (
                "typography",
                .list(
                    (brand.typography ?? []).map { face in
                        map([
                            ("role", text(face.role)), ("family", text(face.family)), ("weight", text(face.weight)),
                            ("fallback", text(face.fallback)),
                        ])
                    })
            ),
            ("logo", map([("file", text(brand.logo?.file)), ("rules", list(brand.logo?.rules))])),
            (
                "imagery",
                map([
                    ("lighting", text(imagery.lighting)), ("background", text(imagery.background)),
                    ("composition", text(imagery.composition)), ("props", text(imagery.props)),
                    ("people", text(imagery.people)),
                ])
            ),
            ("prohibited", list(brand.prohibited)),
            ("disclaimers", .list(disclaimers.map { map([("text", .string($0.text))]) })),
            (
                "altText",
                map([
                    ("tone", text(style?.tone)),
                    ("maxLength", .string(String(style?.maxLength ?? BrandGuide.AltTextStyle.defaultMaxLength))),
                    ("language", .string(style?.language ?? locale)),
                ])
            ),
            (
                "channel",
                channelID.map { id in
                    map([("id", .string(id)), ("background", text(channel?.background)), ("notes", list(channel?.notes))])
                }
            ),
        ])
    }

    /// The `product` part of a context: every field the product has.
    static func productValue(_ product: Product) -> Value {
        productValue(product, fields: ProductFields.all)
    }

    /// The `product` part with only `fields` (what a template names), which spares building the rest
    /// for every product of a large catalog.
    static func productValue(_ product: Product, fields: ProductFields) -> Value {
        var members = Members()
        members.reserveCapacity(fields.builders.count + (fields.includesCustomLabels ? product.customLabels.count : 0))
        // The builders' names are distinct; when they include `custom_label_N` names,
        // `includesCustomLabels` is off, so no name is added twice.
        for (name, build) in fields.builders {
            if let value = build(product) { members.append(name, value) }
        }
        if fields.includesCustomLabels {
            for (index, label) in product.customLabels.enumerated() {
                if let value = text(label) { members.append("custom_label_\(index)", value) }
            }
        }
        return .map(members)
    }

    /// Which of a product's fields to put in its context, chosen once per template.
    struct ProductFields: Sendable {
        fileprivate var builders: [(String, @Sendable (Product) -> Value?)]
        /// All `custom_label_N` (a template that names the product as a whole); otherwise the
        /// ones named are among ``builders``.
        fileprivate var includesCustomLabels: Bool

        static let all = ProductFields(
            builders: ProductField.named.map { ($0.name, $0.field.value) }, includesCustomLabels: true)

        /// Only the fields named (`nil`: all of them).
        static func named(_ names: Set<String>?) -> ProductFields {
            guard let names else { return .all }
            let builders = names.sorted { lhs, rhs in
                // In the table's order, then custom labels by name: the order members are added in.
                let (left, right) = (ProductField.position(lhs), ProductField.position(rhs))
                return left != right ? left < right : lhs < rhs
            }.compactMap { name in ProductField.named(name).map { (name, $0.value) } }
            return ProductFields(builders: builders, includesCustomLabels: false)
        }
    }

    /// A product field as templates name it, read straight from the ``Product``.
    enum ProductField: Sendable {
        /// One value; `nil` when the product has none (an empty string counts as none, but for `id`).
        case text(@Sendable (Product) -> String?)
        case strings(@Sendable (Product) -> [String])
        /// `product_detail`: maps of `section_name` (when there is one), `attribute_name`, `attribute_value`.
        case details
        /// `attributes`: maps of `name` and `value`.
        case attributes

        /// The field as a context holds it.
        var value: @Sendable (Product) -> Value? {
            switch self {
            case .text(let read): { read($0).map(Value.string) }
            case .strings(let read): { .list(read($0).map(Value.string)) }
            case .details:
                { product in
                    .list(
                        product.details.map { detail in
                            map([
                                ("section_name", RenderContext.text(detail.sectionName)), ("attribute_name", .string(detail.attributeName)),
                                ("attribute_value", .string(detail.attributeValue)),
                            ])
                        })
                }
            case .attributes: { product in .list(product.extraAttributes.map { map([("name", .string($0.name)), ("value", .string($0.value))]) }) }
            }
        }

        /// The field a template names `product.<name>`; `nil` for no such field.
        static func named(_ name: String) -> ProductField? {
            if let found = Self.named.first(where: { $0.name == name }) { return found.field }
            // Only the name the label is written as: not `custom_label_01` or `custom_label_+1`.
            guard name.hasPrefix("custom_label_"), let index = Int(name.dropFirst("custom_label_".count)), index >= 0,
                name == "custom_label_\(index)"
            else { return nil }
            return .text { product in index < product.customLabels.count ? nonEmpty(product.customLabels[index]) : nil }
        }

        /// Where a name comes in ``named``; custom labels after every other field.
        fileprivate static func position(_ name: String) -> Int { Self.named.firstIndex { $0.name == name } ?? Self.named.count }

        /// Every field but the custom labels, by the name templates use, in the order a context lists them.
        static let named: [(name: String, field: ProductField)] = [
            ("id", .text { $0.id }), ("title", .text { nonEmpty($0.title) }), ("description", .text { nonEmpty($0.description) }),
            ("link", .text { nonEmpty($0.link) }), ("image_link", .text { nonEmpty($0.imageLink) }),
            ("additional_image_link", .strings { $0.additionalImageLinks }),
            ("price", .text { nonEmpty($0.price?.description) }), ("sale_price", .text { nonEmpty($0.salePrice?.description) }),
            ("availability", .text { nonEmpty($0.availability) }), ("brand", .text { nonEmpty($0.brand) }),
            ("gtin", .text { nonEmpty($0.gtin) }), ("mpn", .text { nonEmpty($0.mpn) }), ("condition", .text { nonEmpty($0.condition) }),
            ("google_product_category", .text { nonEmpty($0.googleProductCategory) }),
            ("product_type", .text { nonEmpty($0.productType) }), ("color", .text { nonEmpty($0.color) }),
            ("size", .text { nonEmpty($0.size) }), ("material", .text { nonEmpty($0.material) }),
            ("pattern", .text { nonEmpty($0.pattern) }), ("gender", .text { nonEmpty($0.gender) }),
            ("age_group", .text { nonEmpty($0.ageGroup) }), ("item_group_id", .text { nonEmpty($0.itemGroupID) }),
            ("product_highlight", .strings { $0.highlights }), ("product_detail", .details), ("attributes", .attributes),
        ]

        private static func nonEmpty(_ string: String?) -> String? {
            guard let string, !string.isEmpty else { return nil }
            return string
        }
    }

    /// The `locale` part of a context.
    public static func localeValue(_ brand: BrandGuide, code: String) -> Value {
        let rules = brand.locale(code)
        return map([
            ("code", .string(code)), ("name", text(rules?.name)), ("language", .string(LocaleCode.language(of: code))),
            ("notes", list(rules?.notes)), ("disclaimers", list(rules?.disclaimers)), ("bannedWords", list(rules?.bannedWords)),
        ])
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    /// A context where every field Onbrand can supply has a value: templates are checked against it
    /// at load time, so a variable that fails here is misspelt or unknown, not merely absent.
    public static func exemplar(for template: PromptTemplate) -> RenderContext {
        var brand = BrandGuide(id: "exemplar")
        brand.name = "Brand"
        brand.tagline = "Tagline"
        var voice = BrandGuide.Voice()
        voice.adjectives = ["warm"]
        voice.dos = ["do"]
        voice.donts = ["dont"]
        voice.samplePhrases = ["sample"]
        voice.bannedWords = ["banned"]
        voice.bannedClaims = ["claim"]
        brand.voice = voice
        var palette = BrandGuide.Palette()
        palette.colors = [BrandGuide.BrandColor(name: "Primary", hex: "#000000", role: "primary", usage: 50)]
        brand.palette = palette
        brand.typography = [BrandGuide.Typeface(role: "heading", family: "Inter", weight: "700", fallback: "sans-serif")]
        var logo = BrandGuide.Logo()
        logo.file = "logo.png"
        logo.rules = ["rule"]
        brand.logo = logo
        var imagery = BrandGuide.Imagery()
        imagery.lighting = "l"
        imagery.background = "b"
        imagery.composition = "c"
        imagery.props = "p"
        imagery.people = "p"
        brand.imagery = imagery
        brand.prohibited = ["x"]
        brand.disclaimers = [BrandGuide.Disclaimer(text: "d")]
        var style = BrandGuide.AltTextStyle()
        style.tone = "plain"
        style.maxLength = 125
        style.language = "en-US"
        brand.altText = style
        var channel = BrandGuide.Channel(id: template.channel ?? "ecommerce")
        channel.background = "white"
        channel.notes = ["note"]
        brand.channels = [channel]
        var locale = BrandGuide.Locale(code: "en-US")
        locale.name = "English"
        locale.notes = ["note"]
        locale.disclaimers = ["d"]
        locale.bannedWords = ["w"]
        brand.locales = [locale]
        var product = Product(id: "SKU-1")
        product.title = "t"
        product.description = "d"
        product.link = "l"
        product.imageLink = "i"
        product.additionalImageLinks = ["a"]
        product.price = Price(amount: "1.00", currency: "USD")
        product.salePrice = product.price
        for keyPath: WritableKeyPath<Product, String?> in [
            \.availability, \.brand, \.gtin, \.mpn, \.condition, \.googleProductCategory, \.productType, \.color, \.size,
            \.material, \.pattern, \.gender, \.ageGroup, \.itemGroupID,
        ] {
            product[keyPath: keyPath] = "x"
        }
        product.customLabels = ["0", "1", "2", "3", "4"]
        product.highlights = ["h"]
        product.details = [Product.Detail(sectionName: "s", attributeName: "n", attributeValue: "v")]
        product.extraAttributes = [Product.Attribute(name: "n", value: "v")]
        return RenderContext(brand: brand, product: product, locale: "en-US", channel: template.channel ?? "ecommerce")
    }
}
