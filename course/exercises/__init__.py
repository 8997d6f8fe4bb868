"""Exercise checks: each prints "Correct!" or what is off, and never gives the answer away.

The rule they share (the verdict and the hint, when a number is right, one line for any input) is in
`course.exercises.answers`; each notebook's checks are in a module named for what they check. Every check
is imported from here: `from course.exercises import check_...`.
"""

from course.exercises.answers import COARSEST_PRECISION, NOT_ANSWERED
from course.exercises.beyond import check_class_precision, check_crop_box, check_noise_step
from course.exercises.convnets import check_class_recall, check_conv_output_size, check_horizontal_edge_kernel
from course.exercises.dcgan_dresses import (
    check_discriminator_move,
    check_dress_share,
    check_nearest_distance,
    check_transposed_conv_size,
)
from course.exercises.discriminator_payoff import check_most_variable, check_real_image_loss, check_unlabelled_loss
from course.exercises.dress_like_this import check_direction, check_sphere_penalties
from course.exercises.gan_game import (
    check_best_discriminator_loss,
    check_generator_gradients,
    check_modes_covered,
    check_optimal_discriminator,
)
from course.exercises.learning_the_transform import check_channels_first, check_dress_confusion, check_parameter_count
from course.exercises.linear_regression import check_bedroom_price, check_diverging_learning_rate, check_log_log
from course.exercises.transfer_learning import (
    check_only_output_trainable,
    check_smallest_paired_difference,
    check_trainable_count,
)
from course.exercises.wasserstein import (
    check_gradient_penalty,
    check_improvement_factor,
    check_penalty_function,
    check_rank_correlation,
)
from course.exercises.welcome import check_dress_count

__all__ = [
    "COARSEST_PRECISION",
    "NOT_ANSWERED",
    "check_bedroom_price",
    "check_best_discriminator_loss",
    "check_channels_first",
    "check_class_precision",
    "check_class_recall",
    "check_conv_output_size",
    "check_crop_box",
    "check_direction",
    "check_discriminator_move",
    "check_diverging_learning_rate",
    "check_dress_confusion",
    "check_dress_count",
    "check_dress_share",
    "check_generator_gradients",
    "check_gradient_penalty",
    "check_horizontal_edge_kernel",
    "check_improvement_factor",
    "check_log_log",
    "check_modes_covered",
    "check_most_variable",
    "check_nearest_distance",
    "check_noise_step",
    "check_only_output_trainable",
    "check_optimal_discriminator",
    "check_parameter_count",
    "check_penalty_function",
    "check_rank_correlation",
    "check_real_image_loss",
    "check_smallest_paired_difference",
    "check_sphere_penalties",
    "check_trainable_count",
    "check_transposed_conv_size",
    "check_unlabelled_loss",
]
