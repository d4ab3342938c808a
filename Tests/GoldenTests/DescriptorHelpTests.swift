import MLShModels
import MLShRuntime
import Testing

/// `:help NAME` of every registered estimator and transform comes from its descriptor: the
/// summary, every setting with its values, default and help text, and the example; and each
/// one is listed in the `:help` overview.
@Suite struct DescriptorHelpTests {
    @Test func everyDescriptorIsInHelpWithItsSettings() {
        let interp = Runtime.makeInterpreter()
        let overview = Help.text(nil, interpreter: interp)
        let described = ModelSpec.estimators.map { ($0.name, $0.summary, $0.example, $0.settings) }
            + TransformSpec.transforms.map { ($0.name, $0.summary, $0.example, $0.settings) }
        for (name, summary, example, settings) in described {
            #expect(overview.contains(" \(name) ") || overview.contains(" \(name)\n"), "\(name) is not in :help")
            let text = Help.text(name, interpreter: interp)
            #expect(text.contains(summary) && text.contains("example: \(example)"), "\(text)")
            for s in settings {
                #expect(text.contains("\(s.key)") && text.contains("\(s.valuesText), default \(s.defaultValue): \(s.help)"), "\(text)")
            }
        }
        #expect(Help.text("ridge", interpreter: interp).contains(
            "    alpha  a number ≥ 0.0, default 1.0: the weight of the L2 penalty (0 is ordinary least squares)\n"))
    }
}
