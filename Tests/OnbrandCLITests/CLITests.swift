import Foundation
import OnbrandTestSupport
import Testing

@Suite struct CLITests {
    @Test func validatesTheBundledExampleBrand() throws {
        let result = try CommandRunner.run(["validate", "brands/northwind"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.hasPrefix("OK: 0 errors"))
        #expect(result.standardOutput.contains("products"))
    }

    @Test func reportsProblemsAsFileLineColumnAndExitsOne() throws {
        try TestFiles.withTemporaryDirectory { directory in
            try TestFiles.write(
                "<?xml version=\"1.0\"?>\n<brand id=\"x\">\n  <name>X</name>\n  <palette><color name=\"A\" hex=\"blue\"/></palette>\n</brand>\n",
                to: "x/brand.xml", in: directory)
            let result = try CommandRunner.run(["validate", "x"], in: directory)
            #expect(result.status == 1)
            #expect(result.standardError.contains("x/brand.xml:4:12: error: colour \"A\" has hex \"blue\""), "\(result.standardError)")
            #expect(result.standardOutput.hasPrefix("FAILED: "))
        }
    }

    @Test func inspectPrintsJSONWithProductCount() throws {
        let result = try CommandRunner.run(["inspect", "--catalog", "brands/northwind/catalog.xml", "--json"])
        #expect(result.status == 0, "\(result.standardError)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        #expect((object["products"] as? Int ?? 0) >= 10)
        #expect((object["fields"] as? [String: Int])?["id"] == object["products"] as? Int)
    }

    @Test func inspectOfAMalformedCatalogFailsWithItsPlace() throws {
        try TestFiles.withTemporaryDirectory { directory in
            try TestFiles.write("<rss xmlns:g=\"http://base.google.com/ns/1.0\"><channel>\n<item><g:id>1</g:id>", to: "cut.xml", in: directory)
            let result = try CommandRunner.run(["inspect", "--catalog", "cut.xml"], in: directory)
            #expect(result.status == 1)
            #expect(result.standardError.contains("cut.xml:2:"), "\(result.standardError)")
            #expect(result.standardError.contains("truncated"))
        }
    }

    @Test func unknownSubcommandIsAUsageError() throws {
        let result = try CommandRunner.run(["paint"])
        #expect(result.status == 64)
    }
}
