use std::io::Cursor;

use super::*;

fn png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    image::RgbImage::new(width, height)
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .unwrap();
    bytes
}

fn asked(width: Option<u64>, height: Option<u64>, ratio: Option<&str>) -> Expected {
    Expected {
        width,
        height,
        ratio: ratio.and_then(AspectRatio::parse),
        count: 1,
        format: "png".into(),
    }
}

#[test]
fn an_asked_ratio_is_kept_within_rounding_and_a_size_wins_over_it() {
    // BFL's 16:9 at one megapixel, each side a multiple of 32.
    assert_eq!(
        verify_images(&asked(None, None, Some("16:9")), &[png(1376, 768)]),
        Ok(())
    );
    let error = verify_images(&asked(None, None, Some("16:9")), &[png(1024, 1024)]).unwrap_err();
    assert!(
        error.contains("1024x1024") && error.contains("16:9"),
        "{error}"
    );
    // A size asked for is checked exactly; the ratio beside it is not judged again.
    assert_eq!(
        verify_images(&asked(Some(64), Some(64), Some("16:9")), &[png(64, 64)]),
        Ok(())
    );
    assert!(verify_images(&asked(Some(64), Some(48), None), &[png(64, 64)]).is_err());
    // No size and no readable ratio: any shape.
    assert_eq!(
        verify_images(&asked(None, None, Some("<string>")), &[png(30, 10)]),
        Ok(())
    );
}
