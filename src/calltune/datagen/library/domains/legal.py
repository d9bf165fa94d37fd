"""Legal: document templates filled in from the user's details. All simulated (a template service the
teacher plays); the output is a draft, not legal advice."""

from __future__ import annotations

from ._spec import array, boolean, function_spec, number, obj, string

DOMAIN = "legal"

_JURISDICTION = string("Country or state whose law governs the document.")
_PARTY = obj(
    "A party to the document.",
    {
        "name": string("Full legal name."),
        "address": string("Postal address."),
        "is_company": boolean("Whether the party is a company.", default=False),
    },
    ["name"],
)

SPECS = [
    function_spec(
        "draft_nda",
        "Draft a non-disclosure agreement between two parties.",
        {
            "disclosing_party": _PARTY,
            "receiving_party": _PARTY,
            "mutual": boolean("Whether both parties share confidential information.", default=False),
            "duration_months": number(
                "How long the confidentiality lasts, in months.", integer=True, minimum=1, default=24
            ),
            "jurisdiction": _JURISDICTION,
        },
        ["disclosing_party", "receiving_party", "jurisdiction"],
    ),
    function_spec(
        "draft_residential_lease",
        "Draft a residential lease agreement.",
        {
            "landlord": _PARTY,
            "tenant": _PARTY,
            "property_address": string("Address of the rented home."),
            "monthly_rent": number("Rent per month."),
            "deposit": number("Security deposit."),
            "start_date": string("First day of the lease.", fmt="date"),
            "term_months": number("Length of the lease in months.", integer=True, minimum=1, default=12),
            "pets_allowed": boolean("Whether pets are allowed.", default=False),
        },
        ["landlord", "tenant", "property_address", "monthly_rent", "start_date"],
    ),
    function_spec(
        "draft_employment_offer_letter",
        "Draft a job offer letter with position, pay and start date.",
        {
            "company_name": string("Employer's name."),
            "candidate_name": string("Candidate's full name."),
            "job_title": string("Position offered."),
            "annual_salary": number("Gross salary per year."),
            "start_date": string("First working day.", fmt="date"),
            "employment_type": string(
                "Kind of contract.", enum=["full_time", "part_time", "fixed_term"], default="full_time"
            ),
            "probation_months": number("Probation period in months.", integer=True, minimum=0),
        },
        ["company_name", "candidate_name", "job_title", "annual_salary", "start_date"],
    ),
    function_spec(
        "draft_power_of_attorney",
        "Draft a power of attorney that lets an agent act for the principal.",
        {
            "principal": _PARTY,
            "agent": _PARTY,
            "scope": string(
                "What the agent may do.", enum=["general", "financial", "medical", "property_sale"]
            ),
            "valid_until": string("Date the power ends; open-ended when omitted.", fmt="date"),
            "jurisdiction": _JURISDICTION,
        },
        ["principal", "agent", "scope", "jurisdiction"],
    ),
    function_spec(
        "draft_privacy_policy",
        "Draft a website or app privacy policy from what data is collected and why.",
        {
            "company_name": string("Company that runs the service."),
            "data_collected": array(
                "Kinds of personal data collected.",
                string("Data kind.", enum=["contact", "location", "payment", "usage", "device", "health"]),
            ),
            "shares_with_third_parties": boolean("Whether data is shared with third parties.", default=False),
            "regulations": array(
                "Regulations to address.", string("Regulation.", enum=["gdpr", "ccpa", "pipl"])
            ),
        },
        ["company_name", "data_collected"],
    ),
    function_spec(
        "list_legal_templates",
        "List the document templates available in a category.",
        {
            "category": string(
                "Template category.",
                enum=["business", "employment", "real_estate", "personal", "intellectual_property"],
            ),
            "jurisdiction": _JURISDICTION,
        },
        ["category"],
    ),
    function_spec(
        "draft_demand_letter",
        "Draft a formal letter demanding payment of an overdue amount.",
        {
            "creditor": _PARTY,
            "debtor": _PARTY,
            "amount_owed": number("Amount overdue."),
            "currency": string("Currency code.", default="USD"),
            "due_within_days": number("Days given to pay.", integer=True, minimum=1, default=14),
        },
        ["creditor", "debtor", "amount_owed"],
    ),
]
