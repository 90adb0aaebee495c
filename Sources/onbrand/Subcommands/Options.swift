import ArgumentParser
import OnbrandBudget

/// The options every command that works on a brand's catalog shares.
struct BrandInputOptions: ParsableArguments {
    @Argument(help: "A brand directory or brand file.")
    var brand: String

    @Option(help: "The catalog (default: the brand's).")
    var catalog: String?

    @Option(name: .customLong("template"), help: "A template; repeat for more (default: the brand's).")
    var templates: [String] = []

    @Option(name: .customLong("locale"), help: "A locale; repeat for more (default: all the brand's locales).")
    var locales: [String] = []

    @Option(help: "Output directory.")
    var out: String = "out"

    @Option(help: "A JSON file of model profiles that add to or override the built-in ones.")
    var models: String?

    /// The built-in profiles with `--models` applied; exits 2 on a bad file.
    func modelCatalog() throws -> ModelCatalog {
        var catalog = ModelCatalog()
        if let models {
            do { try catalog.apply(overridesAt: models) } catch {
                Output.note(error.description)
                throw ExitCode(2)
            }
        }
        return catalog
    }
}
