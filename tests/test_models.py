import re

import pytest
import torch
from torch import nn

from course.models import SideBySide, SmallCNN, count_parameters, freeze, mlp, softmax_classifier


def test_mlp_is_linear_tanh_pairs_ending_in_linear():
    model = mlp(3, (8, 5), 2)
    assert [type(layer) for layer in model] == [nn.Linear, nn.Tanh, nn.Linear, nn.Tanh, nn.Linear]
    assert [(layer.in_features, layer.out_features) for layer in model if isinstance(layer, nn.Linear)] == [
        (3, 8),
        (8, 5),
        (5, 2),
    ]
    assert model(torch.zeros(4, 3)).shape == (4, 2)


def test_mlp_without_hidden_layers_is_one_linear_layer():
    model = mlp(3, (), 1)
    assert len(model) == 1 and isinstance(model[0], nn.Linear)
    assert (model[0].in_features, model[0].out_features) == (3, 1)


@pytest.mark.parametrize("args", [(0, (4,), 1), (3, (4, 0), 1), (3, (4,), 0), (3, (-2,), 1), (3, (2.5,), 1)])
def test_mlp_refuses_bad_layer_sizes(args):
    with pytest.raises(ValueError, match="positive ints"):
        mlp(*args)


def test_softmax_classifier_scores_ten_classes_with_7850_numbers():
    model = softmax_classifier()
    assert model(torch.zeros(5, 1, 28, 28)).shape == (5, 10)
    assert count_parameters(model) == 28 * 28 * 10 + 10 == 7850


def test_small_cnn_scores_each_image_and_its_features_are_32_maps_of_7x7():
    model = SmallCNN(num_classes=5)
    images = torch.rand(3, 1, 28, 28)
    assert model(images).shape == (3, 5)
    assert model.features(images).shape == (3, 32, 7, 7)
    assert model.classifier[-1].out_features == 5


@pytest.mark.parametrize("shape", [(3, 28, 28), (3, 3, 28, 28), (3, 1, 32, 32), (1, 784)])
def test_small_cnn_names_the_shape_it_expects(shape):
    with pytest.raises(ValueError, match=re.escape(f"(N, 1, 28, 28), got {shape}")):
        SmallCNN()(torch.zeros(shape))


def test_freezing_the_features_leaves_only_the_classifier_trainable():
    model = SmallCNN()
    features = 1 * 16 * 5 * 5 + 16 + 16 * 32 * 3 * 3 + 32
    classifier = 32 * 7 * 7 * 64 + 64 + 64 * 10 + 10
    assert count_parameters(model) == count_parameters(model, trainable_only=True) == features + classifier
    freeze(model.features)
    assert count_parameters(model, trainable_only=True) == classifier
    assert count_parameters(model) == features + classifier
    assert not any(p.requires_grad for p in model.features.parameters())
    assert all(p.requires_grad for p in model.classifier.parameters())


def test_side_by_side_runs_each_block_of_rows_through_its_own_copy():
    torch.manual_seed(0)
    networks = SideBySide(3, (2, 16, 16, 1))
    rows = torch.randn(3 * 5, 2)
    out = networks(rows)
    assert out.shape == (15, 1)
    for k in range(3):
        torch.testing.assert_close(out[5 * k : 5 * (k + 1)], networks.copy(k)(rows[5 * k : 5 * (k + 1)]))
    assert count_parameters(networks) == 3 * count_parameters(networks.copy(0))


def test_side_by_side_copies_learn_apart_as_separate_networks_do():
    torch.manual_seed(0)
    networks = SideBySide(2, (2, 8, 2))
    apart = [networks.copy(k) for k in range(2)]
    rows, targets = torch.randn(2 * 4, 2), torch.randn(2 * 4, 2)
    together = torch.optim.Adam(networks.parameters(), lr=0.01)
    alone = [torch.optim.Adam(network.parameters(), lr=0.01) for network in apart]
    for _ in range(5):
        together.zero_grad()
        ((networks(rows) - targets) ** 2).mean().backward()  # the mean over both copies' rows
        together.step()
        for k, (network, optimizer) in enumerate(zip(apart, alone, strict=True)):
            optimizer.zero_grad()
            ((network(rows[4 * k : 4 * (k + 1)]) - targets[4 * k : 4 * (k + 1)]) ** 2).mean().backward()
            optimizer.step()
    for k in range(2):  # Adam's steps do not depend on the gradient's scale (but for its tiny eps)
        for mine, theirs in zip(networks.copy(k).parameters(), apart[k].parameters(), strict=True):
            torch.testing.assert_close(mine, theirs, atol=1e-5, rtol=1e-4)
    assert not torch.allclose(networks.copy(0)[0].weight, networks.copy(1)[0].weight)


def test_side_by_side_starts_as_nn_linear_does_and_names_bad_shapes():
    torch.manual_seed(0)
    weights = SideBySide(50, (4, 3)).weights[0]
    assert weights.abs().max() <= 0.5 and weights.abs().max() > 0.45  # uniform in ±1/√4
    with pytest.raises(ValueError, match="multiple of 2"):
        SideBySide(2, (2, 3))(torch.randn(3, 2))
    with pytest.raises(ValueError, match="at least two positive layer sizes"):
        SideBySide(2, (2,))


def test_side_by_side_players_play_the_course_s_own_step():
    # Notebook 07's way out for a stuck learner, `critic_train_step = gan.train_step`, passes labels to both players.
    from course import gan

    config = gan.GANConfig(loss="wgan-gp", batch_size=8, latent_size=2, critic_steps=2, seed=0)
    generator, critic = SideBySide(2, (2, 8, 2)), SideBySide(2, (2, 8, 1))
    optimizers = [torch.optim.Adam(network.parameters(), 1e-3) for network in (generator, critic)]

    def next_batch() -> gan.Batch:  # the ring's batches: points in the plane, the penalty's mix one number per row
        return gan.Batch(torch.randn(8, 2), torch.randn(8, 2), None, None, torch.rand(8, 1))

    result = gan.train_step(config, generator, critic, *optimizers, next_batch)
    assert torch.isfinite(torch.as_tensor(result.d_loss)) and torch.isfinite(torch.as_tensor(result.g_loss))
