from .contrastive import (LOSS_ALIASES, DualSoftmaxLoss, KLNCELoss,
                          MultiPositiveInfoNCELoss, same_label_targets)

__all__ = ['KLNCELoss', 'DualSoftmaxLoss', 'MultiPositiveInfoNCELoss',
           'same_label_targets', 'LOSS_ALIASES']
