"""What record linkage compares of a Chinese name, a birth date, an address and a phone."""

from hypothesis import given
from hypothesis import strategies as st

from credence.resolve.identity import Identity, birth_parts, features, masked, name_forms
from credence.resolve.scripts import simplified, traditional

COMMON = "张王李赵刘陈杨黄周吴伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂"


def test_a_traditional_name_is_its_simplified_form() -> None:
    assert name_forms("張偉") == name_forms("张伟") == ("张伟", "zhangwei", "weizhang", "张")
    assert name_forms("劉麗華")[0] == "刘丽华"


def test_homophones_share_their_pinyin_and_not_their_characters() -> None:
    wei, wei2 = name_forms("张伟"), name_forms("张薇")
    assert wei is not None
    assert wei2 is not None
    assert wei[0] != wei2[0]
    assert wei[1] == wei2[1] == "zhangwei"


def test_a_name_in_pinyin_given_name_first_meets_the_characters_swapped() -> None:
    latin, chars = name_forms("Wei Zhang"), name_forms("张伟")
    assert latin is not None
    assert chars is not None
    assert latin[1] == "weizhang"
    assert latin[2] == chars[1]
    assert name_forms("ZHANG  Wei") == ("zhangwei", "zhangwei", "weizhang", None)


def test_birth_dates_in_the_ways_clerks_write_them() -> None:
    assert birth_parts("1980-01-02") == ("1980-01-02", 1980, 1, 2)
    assert birth_parts("19800102") == ("1980-01-02", 1980, 1, 2)
    assert birth_parts("1980/1/2") == ("1980-01-02", 1980, 1, 2)
    assert birth_parts("1980-02-30") is None
    assert birth_parts("") is None


def test_features_fold_phone_and_street_forms() -> None:
    found = features(Identity("王 芳", "1990-3-4", "320505", "人民路 12号", "+86 138-0013-8000"))
    assert found["name_norm"] == "王芳"
    assert found["street"] == "人民路12号"
    assert found["phone"] == "13800138000"
    assert (found["birth_year"], found["birth_month"], found["birth_day"]) == (1990, 3, 4)
    assert features(Identity(district="3205"))["district"] is None  # not a district code


def test_the_mask_never_shows_a_whole_name_date_or_phone() -> None:
    shown = masked(Identity("張偉", "1980-01-02", "320505", "人民路12号", "13800138000"))
    assert shown == {
        "name": "张*",
        "born": "1980-01-**",
        "district": "320505",
        "street": "人民路*号",
        "phone": "*******8000",
    }


@given(st.text(alphabet=COMMON, min_size=2, max_size=4))
def test_traditional_and_simplified_forms_of_any_name_compare_equal(name: str) -> None:
    assert name_forms(traditional(name)) == name_forms(simplified(name))
