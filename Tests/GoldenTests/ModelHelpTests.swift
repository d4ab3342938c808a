import Foundation
import MLShRuntime
import Testing
import TestSupport

/// `:help` of a model lists every setting with its default, and `features` has its entry;
/// an int target of few values fitted as regression is noted once on stderr.
@Suite struct ModelHelpTests {
    @Test func modelHelpShowsDefaults() {
        let interp = Runtime.makeInterpreter()
        let forest = Help.text("forest", interpreter: interp)
        #expect(forest.contains("Settings and defaults: trees=100, max_depth=none, min_leaf=1, seed=0."), "\(forest)")
        let boost = Help.text("boost", interpreter: interp)
        #expect(boost.contains("rounds=100, lr=0.1, max_depth=3, min_leaf=1, subsample=1.0, seed=0."), "\(boost)")
        #expect(Help.text("linear", interpreter: interp).contains("Settings and defaults: none."))
        let features = Help.text("features", interpreter: interp)
        #expect(features.contains("example: features(bmi2 = $bmi ^ 2, ratio = $a / $b) >> ridge()"), "\(features)")
        #expect(Help.text("fit", interpreter: interp).contains("task=none"))
    }

    @Test func anIntTargetFittedAsRegressionIsNotedOnce() throws {
        let fits = """
            let t = table({x: [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], y: [0, 1, 0, 1, 1, 0]})
            fit(tree(), t, target=$y).task
            cv(forest(trees=3), t, target=$y, folds=2) |> len
            """
        let r = try runProgram(mlshBinary, ["-e", fits])
        #expect(r.code == 0 && r.out == "\"regression\"\n3\n", "\(r.out)")
        #expect(r.err == "note: tree() treats the int target y (2 distinct values) as regression; pass task=\"classification\" to predict classes, or task=\"regression\" to keep numbers and silence this note\n")
        // Saying the task, or a target with more than 20 values, or a float target: no note.
        let quiet = try runProgram(mlshBinary, ["-e", """
            let t = table({x: [1.0, 2.0, 3.0, 4.0], y: [0, 1, 0, 1], f: [0.0, 1.0, 0.0, 1.0]})
            fit(tree(), t, target=$y, task="regression").task
            fit(tree(), t |> drop($y), target=$f).task
            fit(tree(), table({x: to_list(range(0, 30)), y: to_list(range(0, 30))}), target=$y).task
            """])
        #expect(quiet.code == 0 && quiet.out == "\"regression\"\n\"regression\"\n\"regression\"\n" && quiet.err.isEmpty, "\(quiet.out) \(quiet.err)")
    }
}
