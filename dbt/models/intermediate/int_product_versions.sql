{{ scd2_versions(
    ref('stg_shop__products'),
    'product_id',
    ['sku', 'product_name', 'category', 'brand', 'unit_price'],
) }}
