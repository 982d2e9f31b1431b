/* The golden checkpoints of format v1 (tests/data/golden_v1/, written once by bnb8 0.1.0, never
 * regenerated) load into an optimizer built the same way, and what they hold is exactly what the spec
 * driver computes for their run: every state value and step counter, bit for bit. One more step then
 * matches the spec driver's next step. A reader that misreads an old file, or numerics that drift from
 * the specification, fail here.
 *
 * argv[1]: the folder holding the golden files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "bnb8.h"
#include "support/golden.h"
#include "support/optim_helpers.h"

static const char* g_folder;

static void compare_states(const golden_run* run, const char* file) {
    for (int k = 0; k < 2; ++k) {
        const spec_param* sp = &run->spec_states[k];
        for (int state = 0; state < sp->num_states; ++state) {
            const int64_t count = (int64_t)sp->rows[state] * sp->n;
            float* values = read_state(run->opt, k, state + 1, count);
            for (int64_t i = 0; i < count; ++i) {
                if (f32_to_bits(values[i]) != f32_to_bits(spec_state_value(sp, state, i))) {
                    fail_msg("%s: p%d state%d[%lld] = %a, spec %a", file, k, state + 1, (long long)i, (double)values[i],
                             (double)spec_state_value(sp, state, i));
                }
            }
            free(values);
        }
    }
}

static void goldens_load_and_continue(void** state) {
    (void)state;
    int count = 0;
    const golden_case* cases = golden_cases(&count);
    for (int c = 0; c < count; ++c) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s.safetensors", g_folder, cases[c].file);
        golden_run run;
        golden_setup(&cases[c], &run);
        golden_replay_spec(&run);
        if (bnb_state_load(run.opt, path) != BNB_OK) fail_msg("%s", bnb_last_error_message());
        assert_int_equal(param_info(run.opt, 0).step, kGoldenSteps);
        assert_int_equal(param_info(run.opt, 1).step, kGoldenSteps);
        assert_int_equal(param_info(run.opt, 2).step, 0);
        assert_int_equal(param_info(run.opt, 2).state_mode, BNB_STATE_MODE_NONE);
        assert_int_equal(param_info(run.opt, 1).state_mode, BNB_STATE_MODE_32BIT);
        compare_states(&run, cases[c].file);
        golden_step(&run);
        for (int k = 0; k < kGoldenParams; ++k) {
            if (!buffer_equal_bits(&run.params[k], &run.spec_params[k])) fail_msg("%s: p%d differs after a step", path, k);
        }
        compare_states(&run, cases[c].file);
        golden_teardown(&run);
    }
}

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s <golden folder>\n", argv[0]);
        return 2;
    }
    g_folder = argv[1];
    const struct CMUnitTest tests[] = {cmocka_unit_test(goldens_load_and_continue)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
