"""Same data, code, lock and seed: the same model. Row order: another model."""
from mlecourse.lender.modeling import reproducibility


def test_two_fits_give_the_same_model_digest_and_predictions(loan_windows, course_model):
    train, valid = loan_windows
    again = reproducibility.refit(train)
    result = reproducibility.compare_fits(course_model, again, valid.iloc[:2000])
    assert result["same_digest"] and result["max_abs_diff"] == 0.0


def test_row_order_changes_the_boosting_model(loan_windows, course_model):
    train, valid = loan_windows
    other = reproducibility.refit(reproducibility.shuffled(train))
    result = reproducibility.compare_fits(course_model, other, valid.iloc[:2000])
    assert not result["same_digest"] and result["max_abs_diff"] > 0.01


def test_the_digest_ignores_skops_object_ids(course_model):
    assert reproducibility.model_digest(course_model) == reproducibility.model_digest(course_model)
