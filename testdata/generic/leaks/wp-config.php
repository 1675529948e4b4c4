<?php
define( 'DB_NAME', 'wordpress' );
define( 'DB_USER', 'wp_admin' );
define( 'DB_PASSWORD', '3IplutQrm0M2GwY5m3' );
define( 'DB_HOST', 'localhost' );
define( 'DB_CHARSET', 'utf8mb4' );

define( 'AUTH_KEY',         '1GtbBNe9buajGhktnwfrpV3tN6dK0N0K99B4lO72-+dQeGSG1b' );
define( 'SECURE_AUTH_KEY',  'GlOJrdeYwGnoMNecrtKn4sJedSEMNzcKMxatPfBVmqur' );
define( 'NONCE_SALT',       'wo48rD1gnHuUJOIY5G5Xq0PskwBH8C2r16j9aXGrL3kL' );

$table_prefix = 'wp_';
define( 'WP_DEBUG', false );
