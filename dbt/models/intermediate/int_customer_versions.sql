{{ scd2_versions(
    ref('stg_shop__customers'),
    'customer_id',
    ['email', 'first_name', 'last_name', 'city', 'state', 'country', 'segment', 'signup_date'],
) }}
