"""Contact details as a notice needs them: a phone number in E.164 and an email address in its
normal form, checked by the libraries that keep the numbering plans and the address grammar.

A refused value is never quoted in the message: it is personal data, and messages reach logs
and screens (the raw row stays in quarantine, where it belongs).
"""

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from credence.exc import FieldError

REGION = "CN"  # a number written without a country code is read as a Chinese number


def normal_phone(value: str, *, field: str) -> str:
    """``value`` as an E.164 number (``+8613912345678``), or a FieldError naming ``field``."""
    try:
        number = phonenumbers.parse(value, REGION)
    except phonenumbers.NumberParseException:
        raise FieldError(field, "expected a phone number (11 digits, or +country code and number)") from None
    if not phonenumbers.is_valid_number(number):
        raise FieldError(field, "expected a phone number that exists in its country's numbering plan")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normal_email(value: str, *, field: str) -> str:
    """``value`` as a normalised email address, or a FieldError naming ``field``. Whether its
    domain receives mail is not asked here: that is the delivery's business, and it is recorded."""
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise FieldError(field, f"expected an email address: {_without_value(str(error))}") from None


def _without_value(reason: str) -> str:
    """email-validator's reasons name the part at fault, not the address; keep the first sentence."""
    return reason.split(". ")[0].rstrip(".")
