import Foundation
import OnbrandInputs
import OnbrandTestSupport
import Testing

@Suite struct CatalogReaderTests {
    static func fixture(_ name: String) throws -> String {
        try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures")).path
    }

    static func shared(_ name: String) throws -> String? {
        guard let shared = TestFiles.shared else {
            print("skipping: ../shared is absent, so the real catalogs are not available")
            return nil
        }
        return shared.appendingPathComponent("data/catalogs/\(name)").path
    }

    // MARK: - Real feeds

    @Test func googleExampleFeed() throws {
        guard let path = try Self.shared("gmc-rss_google-example-feed.xml") else { return }
        let reader = try CatalogReader(contentsOf: path)
        let products = try reader.readAll()
        #expect(reader.format == .merchantFeed)
        #expect(products.count == 6)
        #expect(reader.diagnostics.filter { $0.severity == .error }.isEmpty)
        let variants = products.filter { $0.itemGroupID == "CLO-29473856" }
        #expect(variants.count >= 2)
        #expect(Set(variants.compactMap(\.size)).count == variants.count || Set(variants.compactMap(\.color)).count > 1)
        #expect(products.allSatisfy { $0.price?.currency == "USD" })
        #expect(products.contains { !$0.additionalImageLinks.isEmpty })
        #expect(products.contains { !$0.shipping.isEmpty && $0.shipping[0].country != nil })
        #expect(products.contains { $0.link?.contains("&") == true }, "CDATA links keep their ampersands")
        #expect(products.contains { $0.extraAttributes.contains { $0.name == "expiration_date" } }, "unknown fields are kept")
    }

    @Test func germanShopFeedWithPlainRSSElements() throws {
        guard let path = try Self.shared("gmc-rss_waxcelerate-de.xml") else { return }
        let products = try CatalogReader(contentsOf: path).readAll()
        #expect(products.count == 12)
        #expect(products.allSatisfy { $0.title != nil && $0.description != nil && $0.link != nil })
        #expect(products.allSatisfy { $0.price?.currency == "EUR" })
        #expect(products.contains { $0.availability == "out_of_stock" }, "\"out of stock\" is normalised")
        #expect(products.contains { ($0.title ?? "").unicodeScalars.contains { $0.value > 0x7F } || ($0.description ?? "").contains("₂") })
    }

    @Test func legacyAtomFeed() throws {
        guard let path = try Self.shared("gmc-atom03_google-base-products.xml") else { return }
        let products = try CatalogReader(contentsOf: path).readAll()
        #expect(products.count == 2)
        #expect(products.allSatisfy { $0.price?.currency == "USD" }, "g:currency completes a bare g:price")
        #expect(products.allSatisfy { $0.description != nil && $0.link != nil }, "summary and link@href are mapped")
        #expect(products.allSatisfy { $0.extraAttributes.filter { $0.name == "label" }.count >= 1 }, "repeated unknown fields are all kept")
    }

    @Test func shopifyArrayAndStorefrontShapes() throws {
        guard let admin = try Self.shared("shopify-admin_products-array_shopify-python-api.json"),
            let storefront = try Self.shared("shopify-storefront_products_edge-skate-shop.json")
        else { return }
        let adminReader = try CatalogReader(contentsOf: admin)
        let adminProducts = try adminReader.readAll()
        #expect(adminReader.format == .shopify)
        #expect(adminProducts.count == 4)
        #expect(adminProducts.allSatisfy { $0.price != nil && $0.description?.contains("<") == false })
        let storeReader = try CatalogReader(contentsOf: storefront)
        let storeProducts = try storeReader.readAll()
        #expect(storeReader.format == .shopify)
        #expect(storeProducts.count >= 3)
        let tags = storeProducts.flatMap { $0.extraAttributes.filter { $0.name == "tag" } }
        #expect(tags.contains { $0.value.contains("::") }, "tags given as a string or an array are both kept")
    }

    @Test func schemaOrgProducts() throws {
        guard let even = try Self.shared("jsonld-product_even-g2.jsonld"),
            let pawiq = try Self.shared("jsonld-product_pawiq-preorder.jsonld")
        else { return }
        let reader = try CatalogReader(contentsOf: even)
        let product = try #require(try reader.readAll().first)
        #expect(reader.format == .jsonLD)
        #expect(product.price == Price(amount: "699", currency: "CHF"))
        #expect(product.availability == "in_stock")
        #expect(product.brand == "Even Realities")
        #expect(product.details.count == 3)
        #expect(product.extraAttributes.contains { $0.name == "_note" })
        let preorder = try #require(try CatalogReader(contentsOf: pawiq).readAll().first)
        #expect(preorder.price == nil)
        #expect(preorder.availability == "pre_order")
    }

    @Test func productGroupsAreVariants() throws {
        let jsonLD = """
            {"@context": "https://schema.org", "@type": "ProductGroup", "productGroupID": "G1", "name": "Tee",
             "brand": {"@type": "Brand", "name": "Acme"}, "variesBy": ["https://schema.org/size"],
             "hasVariant": [
               {"@type": "Product", "sku": "G1-S", "size": "S", "offers": {"price": 10, "priceCurrency": "EUR"}},
               {"@type": "Product", "sku": "G1-M", "size": "M", "name": "Tee, medium"}]}
            """
        try TestFiles.withTemporaryDirectory { directory in
            let path = try TestFiles.write(jsonLD, to: "group.jsonld", in: directory)
            let products = try CatalogReader(contentsOf: path).readAll()
            #expect(products.map(\.id) == ["G1-S", "G1-M"])
            #expect(products.allSatisfy { $0.itemGroupID == "G1" && $0.brand == "Acme" })
            #expect(products.map(\.title) == ["Tee", "Tee, medium"])
            #expect(products[0].price == Price(amount: "10", currency: "EUR"))
        }
    }

    @Test func largeFeedSurvivesChunkBoundaries() throws {
        // Several parser chunks: text, CDATA and multi-byte characters must cross chunk edges intact.
        var feed = "<?xml version=\"1.0\"?>\n<rss xmlns:g=\"http://base.google.com/ns/1.0\"><channel>\n"
        var expected: [(String, String)] = []
        for index in 0..<3000 {
            let text = "Grüße № \(index) – " + String(repeating: "軽量で防水 ", count: index % 37) + "&amp; end"
            let description = index % 2 == 0 ? text : "<![CDATA[\(text)]]>"
            feed += "<item>\n  <g:id>P-\(index)</g:id>\n  <g:description>\(description)</g:description>\n</item>\n"
            expected.append(("P-\(index)", index % 2 == 0 ? text.replacingOccurrences(of: "&amp;", with: "&") : text))
        }
        feed += "</channel></rss>\n"
        #expect(feed.utf8.count > 3 * (256 << 10))
        try TestFiles.withTemporaryDirectory { directory in
            let products = try CatalogReader(contentsOf: try TestFiles.write(feed, to: "big.xml", in: directory)).readAll()
            #expect(products.count == expected.count)
            for (product, (id, description)) in zip(products, expected) {
                #expect(product.id == id)
                #expect(product.description == description)
            }
        }
    }

    @Test func abandoningAReaderMidFileStopsItsParser() throws {
        var feed = "<rss xmlns:g=\"http://base.google.com/ns/1.0\"><channel>"
        for index in 0..<20000 { feed += "<item><g:id>\(index)</g:id><g:title>Title \(index)</g:title></item>" }
        feed += "</channel></rss>"
        try TestFiles.withTemporaryDirectory { directory in
            let path = try TestFiles.write(feed, to: "feed.xml", in: directory)
            for _ in 0..<20 {
                let reader = try CatalogReader(contentsOf: path)
                #expect(try reader.next()?.id == "0")
            }
        }
    }

    // MARK: - Problems, located

    @Test func missingIDIsReportedAtTheItemAndTheRestIsRead() throws {
        let path = try Self.fixture("missing-id.xml")
        let reader = try CatalogReader(contentsOf: path)
        let products = try reader.readAll()
        #expect(products.map(\.id) == ["OK-1", "../../etc/passwd"])
        let diagnostics = reader.diagnostics
        let missing = try #require(diagnostics.first { $0.message.contains("no product ID") })
        #expect(missing.severity == .error)
        #expect(missing.location?.line == 8)
        #expect(missing.location?.column == 5)
        #expect(missing.description.hasPrefix("\(path):8:5: error: <item> has no product ID"))
        let unsafe = try #require(diagnostics.first { $0.message.contains("unsafe as a file name") })
        #expect(unsafe.severity == .warning)
        #expect((unsafe.location?.line, unsafe.location?.column) == (12, 7))
        #expect(products[1].isSafeAsFileName == false)
        let price = try #require(diagnostics.first { $0.message.contains("\"cheap\"") })
        #expect(price.location?.line == 12)
        #expect(products[1].extraAttributes.contains(Product.Attribute(name: "fabric_weight", value: "200 gsm")))
    }

    @Test func wrongNamespaceIsAnError() throws {
        let path = try Self.fixture("wrong-namespace.xml")
        let reader = try CatalogReader(contentsOf: path)
        _ = try reader.readAll()
        let error = try #require(reader.diagnostics.first { $0.severity == .error && $0.message.contains("namespace") })
        #expect(error.message.contains("http://base.google.com/ns/2.0"))
        #expect(error.hint?.contains("http://base.google.com/ns/1.0") == true)
        #expect((error.location?.line, error.location?.column) == (4, 5))
    }

    @Test func wrongJSONTypeNamesPathLineAndColumn() throws {
        let path = try Self.fixture("wrong-type.json")
        let reader = try CatalogReader(contentsOf: path)
        let products = try reader.readAll()
        #expect(products.map(\.id) == ["A1", "A2"])
        let problem = try #require(reader.diagnostics.first { $0.severity == .error })
        #expect(problem.location?.codingPath == "[1].price")
        #expect((problem.location?.line, problem.location?.column) == (4, 13))
        #expect(problem.description.hasPrefix("\(path):4:13: error: at `[1].price`: expected text, found an object"))
    }

    @Test func jsonSyntaxErrorIsLocated() throws {
        let path = try Self.fixture("syntax-error.json")
        let error = try #require(throws: DiagnosticError.self) { try CatalogReader(contentsOf: path) }
        let diagnostic = try #require(error.diagnostics.first)
        #expect((diagnostic.location?.line, diagnostic.location?.column) == (3, 42))
        #expect(diagnostic.message.contains("trailing comma"))
    }

    @Test func jsonLinesStreamAndStopAtABrokenLine() throws {
        let path = try Self.fixture("catalog.jsonl")
        let reader = try CatalogReader(contentsOf: path)
        #expect(reader.format == .onbrandJSONLines)
        let first = try #require(try reader.next())
        #expect(first.additionalImageLinks == ["a.jpg", "b.jpg"])
        #expect(first.extraAttributes == [Product.Attribute(name: "gsm", value: "200")])
        #expect(try reader.next()?.id == "L2")
        let error = try #require(throws: DiagnosticError.self) { try reader.next() }
        #expect(error.diagnostics.last?.location?.line == 4)
    }

    /// Element text becomes `String`s without a second UTF-8 check, on libxml2's word that it
    /// delivers only what it has checked. Every kind of malformed sequence, in mid-file and
    /// straddling a parser chunk's edge, must stop the read with a located error, and every
    /// product before it must hold valid text (debug builds, where tests run, check each string).
    /// In CDATA too, where libxml2's push parser lets overlong forms through (the reader checks them).
    @Test(arguments: [
        [0x80], [0xC3], [0xC0, 0xAF], [0xC1, 0x81], [0xE0, 0x80, 0xAF], [0xF0, 0x80, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
        [0xF0, 0x9F, 0x98], [0xFF],
    ] as [[UInt8]], [false, true])
    func malformedUTF8InAFeedStopsWithALocatedError(_ bad: [UInt8], inCDATA: Bool) throws {
        let head = Array("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss xmlns:g=\"http://base.google.com/ns/1.0\"><channel>\n".utf8)
        func item(_ index: Int) -> [UInt8] { Array("<item><g:id>P\(index)</g:id><g:title>Grüße \(index) 軽量</g:title></item>\n".utf8) }
        var good: [UInt8] = []
        var count = 0
        // Enough items, then blanks, that the bad sequence starts on the first chunk's last byte.
        let badItem = Array("<item><g:id>BAD</g:id><g:title>\(inCDATA ? "<![CDATA[" : "")Caf".utf8)
        while head.count + good.count + 200 < 256 << 10 {
            good += item(count)
            count += 1
        }
        good += Array(repeating: UInt8(ascii: " "), count: (256 << 10) - 1 - head.count - good.count - badItem.count)
        let line = 3 + count
        let feed = head + good + badItem + bad + Array("é au lait\(inCDATA ? "]]>" : "")</g:title></item>\n</channel></rss>\n".utf8)
        #expect(feed[(256 << 10) - 1] == bad[0])
        try TestFiles.withTemporaryDirectory { directory in
            let reader = try CatalogReader(contentsOf: try TestFiles.write(bytes: feed, to: "bad.xml", in: directory))
            var read: [Product] = []
            let error = try #require(throws: DiagnosticError.self) {
                while let product = try reader.next() { read.append(product) }
            }
            #expect(read.count <= count && !read.contains { $0.id == "BAD" })
            for (index, product) in read.enumerated() { #expect(product.title == "Grüße \(index) 軽量") }
            let diagnostic = try #require(error.diagnostics.last)
            // libxml2 names a surrogate or a scalar past U+10FFFF by its value, not by "UTF-8".
            #expect(diagnostic.message.contains("UTF-8") || diagnostic.message.contains("out of allowed range"), "\(diagnostic.message)")
            #expect(diagnostic.location?.line == line)
        }
    }

    @Test(arguments: [
        ("159.00 USD", "159.00|USD"), ("USD 159.00", "159.00|USD"), ("159.00", "159.00|GBP"), ("1.299,00 EUR", "1.299,00|EUR"),
        ("159.00  USD", "159.00|USD"), ("-5 EUR", "-5|EUR"), ("159.00 usd", nil), ("159.00 USD extra", nil), ("abc", nil), ("", nil),
        ("159.00 ", nil), (" 159.00", nil), ("€159", nil), ("12 EURO", nil), ("EUR", nil), ("9.9.9 XYZ", "9.9.9|XYZ"), ("9\u{A0}EUR", nil),
    ] as [(String, String?)])
    func pricesParseAsMerchantCenterWritesThem(_ text: String, _ expected: String?) {
        let price = Price(parsing: text, defaultCurrency: "GBP")
        #expect(price.map { "\($0.amount)|\($0.currency ?? "-")" } == expected, "\(text.debugDescription)")
    }

    /// The reader clears one record's fields in place for the next: nothing of an item, with or
    /// without an ID, reaches the item after it.
    @Test func nothingOfAnItemCarriesIntoTheNext() throws {
        let feed = """
            <rss xmlns:g="http://base.google.com/ns/1.0"><channel>
            <item><g:title>No ID</g:title><g:price>9.00 EUR</g:price><g:currency>EUR</g:currency><g:custom_label_2>x</g:custom_label_2>
              <g:product_detail><g:attribute_name>Fit</g:attribute_name><g:attribute_value>Slim</g:attribute_value></g:product_detail></item>
            <item><g:id>A</g:id><g:title>First</g:title><g:sale_price>5</g:sale_price><g:currency>GBP</g:currency><g:price>bad</g:price></item>
            <item><g:id>B</g:id><g:price>7</g:price></item>
            </channel></rss>
            """
        try TestFiles.withTemporaryDirectory { directory in
            let reader = try CatalogReader(contentsOf: try TestFiles.write(feed, to: "feed.xml", in: directory))
            let products = try reader.readAll()
            #expect(reader.diagnostics.contains { $0.message.contains("no product ID") })
            #expect(reader.diagnostics.contains { $0.message.contains("\"bad\"") })
            #expect(products.map(\.id) == ["A", "B"])
            #expect(products[0].title == "First" && products[0].details.isEmpty && products[0].customLabels.isEmpty)
            #expect(products[0].salePrice == Price(amount: "5", currency: "GBP") && products[0].price == nil)
            #expect(products[1].title == nil && products[1].salePrice == nil && products[1].extraAttributes.isEmpty)
            #expect(products[1].price == Price(amount: "7", currency: nil))
        }
    }

    @Test func invalidUTF8InJSONIsLocated() throws {
        try TestFiles.withTemporaryDirectory { directory in
            let path = try TestFiles.write(bytes: Array("[{\"id\": \"A\", \"title\": \"Caf".utf8) + [0xE9] + Array(" au lait\"}]".utf8), to: "bad.json", in: directory)
            let error = try #require(throws: DiagnosticError.self) { try CatalogReader(contentsOf: path) }
            #expect(error.diagnostics.first?.message.contains("UTF-8") == true)
            #expect(error.diagnostics.first?.location?.column == 27)
        }
    }

    @Test(arguments: ["../../etc/passwd", "a/b", "CON", "nul.txt", ".hidden", "", "x\u{0}y", String(repeating: "a", count: 300)])
    func unsafeFileNamesAreFlagged(id: String) {
        #expect(FileNameSafety.problem(with: id) != nil)
    }

    @Test(arguments: ["NW-0000001", "SKU_42", "sku.v2", "Größe-M", "CONSOLE"])
    func ordinaryIDsAreSafe(id: String) {
        #expect(FileNameSafety.problem(with: id) == nil)
    }

    @Test func summaryCountsFieldsGroupsAndScripts() throws {
        let feed = """
            <rss xmlns:g="http://base.google.com/ns/1.0"><channel>
            <item><g:id>1</g:id><g:title>Jacke</g:title><g:item_group_id>G</g:item_group_id></item>
            <item><g:id>2</g:id><g:title>ジャケット</g:title><g:item_group_id>G</g:item_group_id></item>
            <item><g:id>2</g:id><g:title>سترة</g:title></item>
            </channel></rss>
            """
        try TestFiles.withTemporaryDirectory { directory in
            let reader = try CatalogReader(contentsOf: try TestFiles.write(feed, to: "feed.xml", in: directory))
            var summary = CatalogSummary(format: reader.format)
            while let product = try reader.next() { summary.add(product) }
            summary.finish()
            #expect(summary.products == 3)
            #expect(summary.fields["title"] == 3 && summary.fields["item_group_id"] == 2)
            #expect(summary.variantGroups == 1 && summary.productsInVariantGroups == 2)
            #expect(summary.scripts["Kana"] == 1 && summary.scripts["Arabic"] == 1 && summary.scripts["Latin"] == 1)
            #expect(summary.duplicateIDs == ["2"])
        }
    }
}
